"""Sign-in of professionals through an external OpenID Connect provider that is a second,
complete Hygie (its own database, keys, accounts and pages): the Pro Santé Connect role
played by Hygie's own authorization server, as issue 3 asks.

The relying party is the whole Hygie under test (``create_app``, its edge included);
its OIDC HTTP client reaches the provider in-process through ``httpx.ASGITransport``, while
the browser visits each Hygie with its own ``TestClient`` (its own cookie jar), following
every redirect by hand so that each hop is checked.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url
from hygie.security.accounts import Account, AccountService
from hygie.security.audit import Outcome
from hygie.security.context import Aal, PrincipalKind
from hygie.security.oauth.clients import ClientKind
from hygie.security.services import Security
from hygie.security.sessions import SESSION_COOKIE
from tests.apptest import demo_settings
from tests.conftest import backends
from tests.security.sessions.helpers import csrf_of

IDP = "https://idp.hygie.test"  # the provider Hygie
RP = "https://hygie.test"  # the Hygie under test
CALLBACK = f"{RP}/connexion/oidc/psc/retour"
PASSWORD = "Tests-Hygie-2026!"
RPPS = "10001234565"
CONSENT_BUTTON = 'name="decision" value="approve"'


@dataclass
class Provider:
    app: FastAPI
    security: Security
    browser: TestClient  # the user's browser at the provider
    client_id: str
    client_secret: str


@dataclass
class RelyingParty:
    security: Security
    browser: TestClient  # the same user's browser at the Hygie under test


@pytest.fixture
def provider(database: Database, tmp_path: Path) -> Iterator[Provider]:
    """A complete Hygie in demo mode, on a database of the same backend as the test's."""
    with scratch_database_url(database.dialect, tmp_path) as url:
        db = Database(make_engine(url))
        upgrade(db.engine)
        app = create_app(demo_settings(tmp_path / "idp", base_url=IDP), database=db)
        security: Security = app.state.security
        client, secret = security.oauth.clients.create(
            "Hygie (établissement B)",
            ClientKind.CONFIDENTIAL,
            redirect_uris=[CALLBACK],
            scopes=["openid", "fhirUser", "profile"],
        )
        assert secret is not None
        try:
            with TestClient(app, base_url=IDP) as browser:
                yield Provider(app, security, browser, client.id, secret)
        finally:
            db.dispose()


@pytest.fixture
def relying_party(database: Database, provider: Provider, tmp_path: Path) -> Iterator[RelyingParty]:
    """The Hygie under test, configured by the admin to trust the provider Hygie."""
    settings = demo_settings(
        tmp_path / "rp",
        base_url=RP,
        oidc_issuer=IDP,
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
        oidc_account_claim="rpps",
    )
    app = create_app(
        settings, database=database, oidc_transport=httpx.ASGITransport(app=provider.app)
    )
    with TestClient(app, base_url=RP) as browser:
        yield RelyingParty(app.state.security, browser)


def professional(accounts: AccountService, username: str, rpps: str) -> tuple[Account, pyotp.TOTP]:
    """A professional with TOTP enrolled; the enrolment spent the current code, so sign-ins
    use :func:`next_code` (a code is accepted once only)."""
    account = accounts.create(
        PrincipalKind.PRACTITIONER,
        username,
        PASSWORD,
        display="Dr Claire Bernard",
        fhir_ref="Practitioner/pr1",
        organization_ref="Organization/o1",
        roles=frozenset({"physician"}),
        rpps=rpps,
    )
    totp = pyotp.TOTP(accounts.begin_totp(account.id).secret)
    accounts.confirm_totp(account.id, totp.now())
    return account, totp


def next_code(totp: pyotp.TOTP) -> str:
    return totp.at(time.time() + 30)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def sign_in_at_provider(browser: TestClient, login_url: str, totp: pyotp.TOTP) -> str:
    """Password then TOTP on the provider's own pages; returns where the provider sends the
    browser next (back to its authorize endpoint)."""
    next_path = query_of(login_url)["next"]
    page = browser.get(local(login_url))
    assert page.status_code == 200, page.text
    first = browser.post(
        "/connexion",
        data={
            "username": "dr.bernard",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": next_path,
        },
        follow_redirects=False,
    )
    assert first.status_code == 303, first.text
    assert first.headers["location"].startswith("/connexion/second-facteur")
    page = browser.get(first.headers["location"])
    second = browser.post(
        "/connexion/second-facteur",
        data={
            "methode": "totp",
            "code": next_code(totp),
            "csrf": csrf_of(page.text),
            "next": next_path,
        },
        follow_redirects=False,
    )
    assert second.status_code == 303, second.text
    return str(second.headers["location"])


def to_provider_and_back(
    provider: Provider, rp: RelyingParty, totp: pyotp.TOTP, *, decision: str = "approve"
) -> str:
    """From the RP's button to the RP's callback URL, signing in and consenting at the
    provider on the way."""
    start = rp.browser.get(
        "/connexion/oidc/psc", params={"next": "/compte/sessions"}, follow_redirects=False
    )
    assert start.status_code == 303, start.text
    authorize_url = start.headers["location"]
    assert authorize_url.startswith(f"{IDP}/oauth/authorize?")
    asked = provider.browser.get(authorize_url, follow_redirects=False)
    assert asked.status_code == 303, asked.text
    assert asked.headers["location"].startswith("/connexion?next=")  # not signed in there yet
    back_to_authorize = sign_in_at_provider(provider.browser, asked.headers["location"], totp)
    consent = provider.browser.get(back_to_authorize, follow_redirects=False)
    assert consent.status_code == 200 and CONSENT_BUTTON in consent.text, consent.text
    token = consent.text.split('name="form_token" value="')[1].split('"')[0]
    answer = provider.browser.post(
        "/oauth/authorize/consent",
        data={"form_token": token, "decision": decision},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    callback = str(answer.headers["location"])
    assert callback.startswith(f"{CALLBACK}?")
    return callback


def rp_signins(security: Security) -> list[tuple[Outcome, str, str | None]]:
    log = security.audit_log
    entries = (log.entry(i) for i in range(log.tree_head().tree_size))
    return [(e.outcome, e.actor.id, e.reason) for e in entries if e.action == "auth.signin"]


@backends
def test_a_professional_signs_in_at_the_rp_through_the_provider_hygie_at_aal2(
    provider: Provider, relying_party: RelyingParty
) -> None:
    _, totp = professional(provider.security.accounts, "dr.bernard", RPPS)
    rp_doctor, _ = professional(relying_party.security.accounts, "c.bernard", RPPS)
    callback = to_provider_and_back(provider, relying_party, totp)
    assert query_of(callback)["iss"] == IDP  # RFC 9207
    back = relying_party.browser.get(local(callback), follow_redirects=False)
    # Straight to the page asked for: the RP did not ask for its own second factor.
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/compte/sessions"
    cookie = relying_party.browser.cookies.get(SESSION_COOKIE) or ""
    session = relying_party.security.sessions.lookup(cookie)
    assert session is not None
    assert session.account_id == rp_doctor.id and session.aal is Aal.TWO
    page = relying_party.browser.get("/compte/sessions", follow_redirects=False)
    assert page.status_code == 200 and "(cette session)" in page.text
    assert rp_signins(relying_party.security) == [(Outcome.SUCCESS, rp_doctor.id, "oidc psc: aal2")]


@backends
def test_a_provider_user_without_an_account_at_the_rp_is_refused_in_french(
    provider: Provider, relying_party: RelyingParty
) -> None:
    _, totp = professional(provider.security.accounts, "dr.bernard", RPPS)
    professional(relying_party.security.accounts, "autre.medecin", "10009999995")
    callback = to_provider_and_back(provider, relying_party, totp)
    back = relying_party.browser.get(local(callback), follow_redirects=False)
    assert back.status_code == 400
    assert "aucun compte professionnel Hygie n'y est associé" in html.unescape(back.text)
    assert SESSION_COOKIE not in relying_party.browser.cookies
    [(outcome, actor, reason)] = rp_signins(relying_party.security)
    assert outcome is Outcome.FAILURE and actor == "anonymous"
    assert reason == "oidc psc: no enabled professional account linked to this identity"


@backends
def test_a_tampered_state_is_refused_and_the_right_one_still_works(
    provider: Provider, relying_party: RelyingParty
) -> None:
    _, totp = professional(provider.security.accounts, "dr.bernard", RPPS)
    rp_doctor, _ = professional(relying_party.security.accounts, "c.bernard", RPPS)
    callback = to_provider_and_back(provider, relying_party, totp)
    state = query_of(callback)["state"]
    tampered = local(callback).replace(f"state={state}", f"state={state[:-2]}xy")
    refused = relying_party.browser.get(tampered, follow_redirects=False)
    assert refused.status_code == 400 and "Connexion impossible" in refused.text
    assert SESSION_COOKIE not in relying_party.browser.cookies
    # The genuine callback was not spent by the forgery.
    back = relying_party.browser.get(local(callback), follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/compte/sessions"
    session = relying_party.security.sessions.lookup(
        relying_party.browser.cookies.get(SESSION_COOKIE) or ""
    )
    assert session is not None and session.account_id == rp_doctor.id


@backends
def test_refusing_consent_at_the_provider_opens_no_session_at_the_rp(
    provider: Provider, relying_party: RelyingParty
) -> None:
    _, totp = professional(provider.security.accounts, "dr.bernard", RPPS)
    professional(relying_party.security.accounts, "c.bernard", RPPS)
    callback = to_provider_and_back(provider, relying_party, totp, decision="deny")
    assert query_of(callback)["error"] == "access_denied"
    back = relying_party.browser.get(local(callback), follow_redirects=False)
    assert back.status_code == 400 and "Connexion impossible" in back.text
    assert SESSION_COOKIE not in relying_party.browser.cookies


def test_the_provider_still_demands_aud_from_an_app_that_wants_fhir_data(
    provider: Provider,
) -> None:
    """Only a sign-in-only request (openid, fhirUser, profile) may leave out SMART's aud."""
    security = provider.security
    app, _ = security.oauth.clients.create(
        "Agenda", ClientKind.CONFIDENTIAL, redirect_uris=[CALLBACK], scopes=["openid", "user/*.rs"]
    )
    params = {
        "response_type": "code",
        "client_id": app.id,
        "redirect_uri": CALLBACK,
        "scope": "openid user/Patient.rs",
        "state": "etat-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    refused = provider.browser.get("/oauth/authorize", params=params, follow_redirects=False)
    assert refused.status_code == 303
    answer = query_of(refused.headers["location"])
    assert answer["error"] == "invalid_request" and answer["error_description"].startswith("aud")
    params["aud"] = f"{IDP}/fhir"
    to_sign_in = provider.browser.get("/oauth/authorize", params=params, follow_redirects=False)
    assert to_sign_in.headers["location"].startswith("/connexion?next=")
