"""Sign-in of professionals through an external OpenID Connect provider (Pro Santé Connect
role), against a real provider run in-process (tests/security/sessions/oidc_provider.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.audit import AuditEntry, AuditLog, Outcome, load_signer
from hygie.security.context import Aal
from hygie.security.sessions import SESSION_COOKIE, OidcProvider, OidcSignIn, SessionService
from tests.conftest import backends
from tests.security.sessions.conftest import pages_app
from tests.security.sessions.helpers import ORIGIN, Clock, enrol_totp, patient, professional
from tests.security.sessions.oidc_provider import ISSUER, TestProvider

RPPS = "10001234565"


@pytest.fixture
def idp(clock: Clock) -> TestProvider:
    return TestProvider(clock, client_id="hygie", client_secret="s3cret-client")


@pytest.fixture
def audit(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


def signins(audit: AuditLog) -> list[AuditEntry]:
    entries = (audit.entry(i) for i in range(audit.tree_head().tree_size))
    return [e for e in entries if e.action == "auth.signin"]


@pytest.fixture
def browser(
    database: Database,
    audit: AuditLog,
    sessions: SessionService,
    accounts: AccountService,
    idp: TestProvider,
    clock: Clock,
) -> Iterator[TestClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=idp.app))
    provider = OidcProvider(
        name="psc",
        display="Pro Santé Connect",
        issuer=ISSUER,
        client_id="hygie",
        client_secret="s3cret-client",
        link_claim="preferred_username",
        mfa_acr_values=frozenset({"eidas2"}),
    )
    oidc = OidcSignIn.for_providers(
        database, accounts, [provider], http=http, public_origin=ORIGIN, clock=clock, audit=audit
    )
    with TestClient(pages_app(database, sessions, accounts, oidc), base_url=ORIGIN) as client:
        yield client


def through_provider(
    browser: TestClient, idp: TestProvider, next_path: str = "/"
) -> httpx.Response:
    """Start at Hygie, visit the provider's authorize endpoint, come back with the code."""
    start = browser.get("/connexion/oidc/psc", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    with TestClient(idp.app, base_url=ISSUER) as at_idp:
        granted = at_idp.get(start.headers["location"], follow_redirects=False)
    assert granted.status_code == 302, granted.text
    return browser.get(granted.headers["location"], follow_redirects=False)


def signed_in_aal(browser: TestClient, sessions: SessionService) -> Aal | None:
    session = sessions.lookup(browser.cookies.get(SESSION_COOKIE) or "")
    return None if session is None else session.aal


@backends
def test_a_professional_signs_in_at_aal2_when_the_provider_did_mfa(
    browser: TestClient,
    idp: TestProvider,
    accounts: AccountService,
    sessions: SessionService,
    audit: AuditLog,
) -> None:
    doctor = professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["pwd", "otp", "mfa"]}
    start = browser.get("/connexion/oidc/psc", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{ORIGIN}/connexion/oidc/psc/retour"]
    assert query["state"][0] and query["nonce"][0]
    back = through_provider(browser, idp, "/pro/agenda")
    assert back.status_code == 303 and back.headers["location"] == "/pro/agenda"
    session = sessions.lookup(browser.cookies.get(SESSION_COOKIE) or "")
    assert session is not None and session.account_id == doctor.id and session.aal is Aal.TWO
    ctx = sessions.context(
        browser.cookies.get(SESSION_COOKIE) or "", network_zone="internet", source_ip="x"
    )
    assert ctx is not None and ctx.principal.fhir_ref == "Practitioner/pr1"
    [entry] = signins(audit)
    assert entry.outcome is Outcome.SUCCESS and entry.actor.id == doctor.id
    assert entry.reason == "oidc psc: aal2"


@backends
def test_an_acr_listed_as_mfa_also_gives_aal2(
    browser: TestClient, idp: TestProvider, accounts: AccountService, sessions: SessionService
) -> None:
    professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": RPPS, "acr": "eidas2"}
    assert through_provider(browser, idp).status_code == 303
    assert signed_in_aal(browser, sessions) is Aal.TWO


@backends
def test_a_single_factor_provider_sign_in_asks_for_hygies_second_factor(
    browser: TestClient,
    idp: TestProvider,
    accounts: AccountService,
    sessions: SessionService,
    clock: Clock,
) -> None:
    enrol_totp(accounts, professional(accounts, rpps=RPPS), clock)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["pwd"], "acr": "eidas1"}
    back = through_provider(browser, idp, "/pro")
    assert back.headers["location"] == "/connexion/second-facteur?next=/pro"
    assert signed_in_aal(browser, sessions) is Aal.ONE


@backends
@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"nonce": "not-the-nonce"},
        {"audience": "another-client"},
        {"audience": ["hygie", "another-client"]},  # several audiences, no azp
        {"issuer": "https://evil.example"},
        {"lifetime": -120},  # expired beyond the leeway
        {"foreign_key": True},
        {"response_iss": "https://evil.example"},  # RFC 9207 mix-up
        {"announce_iss": True},  # announced iss parameter missing from the response
    ],
)
def test_an_id_token_that_does_not_verify_opens_no_session(
    browser: TestClient,
    idp: TestProvider,
    accounts: AccountService,
    misbehaviour: dict[str, object],
    audit: AuditLog,
) -> None:
    professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["mfa"]}
    for name, value in misbehaviour.items():
        setattr(idp.knobs, name, value)
    back = through_provider(browser, idp)
    assert back.status_code == 400 and "Connexion impossible" in back.text
    assert SESSION_COOKIE not in browser.cookies
    [entry] = signins(audit)
    assert entry.outcome is Outcome.FAILURE and entry.actor.id == "anonymous"


@backends
def test_the_providers_own_issuer_in_the_authorization_response_is_accepted(
    browser: TestClient, idp: TestProvider, accounts: AccountService, sessions: SessionService
) -> None:
    professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["mfa"]}
    idp.knobs.announce_iss, idp.knobs.response_iss = True, ISSUER
    back = through_provider(browser, idp, "/pro")
    assert back.status_code == 303 and back.headers["location"] == "/pro"
    assert signed_in_aal(browser, sessions) is Aal.TWO


@backends
def test_an_identity_without_an_enabled_professional_account_opens_no_session(
    browser: TestClient, idp: TestProvider, accounts: AccountService
) -> None:
    patient(accounts)
    doctor = professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": "10009999995", "amr": ["mfa"]}
    assert through_provider(browser, idp).status_code == 400
    accounts.disable(doctor.id)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["mfa"]}
    assert through_provider(browser, idp).status_code == 400
    idp.knobs.claims = {"amr": ["mfa"]}  # no linking claim at all
    accounts.enable(doctor.id)
    assert through_provider(browser, idp).status_code == 400
    assert SESSION_COOKIE not in browser.cookies


@backends
def test_a_callback_is_honoured_once_and_only_in_the_browser_that_started_it(
    browser: TestClient, idp: TestProvider, accounts: AccountService, sessions: SessionService
) -> None:
    professional(accounts, rpps=RPPS)
    idp.knobs.claims = {"preferred_username": RPPS, "amr": ["mfa"]}
    start = browser.get("/connexion/oidc/psc", follow_redirects=False)
    with TestClient(idp.app, base_url=ISSUER) as at_idp:
        callback = at_idp.get(start.headers["location"], follow_redirects=False).headers["location"]
    binding = browser.cookies.get("__Host-hygie_oidc") or ""
    browser.cookies.delete("__Host-hygie_oidc")
    assert browser.get(callback, follow_redirects=False).status_code == 400  # another browser
    browser.cookies.set("__Host-hygie_oidc", binding, domain="testserver.local")
    assert browser.get(callback, follow_redirects=False).status_code == 303  # its own browser
    assert signed_in_aal(browser, sessions) is Aal.TWO
    browser.cookies.clear()
    browser.cookies.set("__Host-hygie_oidc", binding, domain="testserver.local")
    assert browser.get(callback, follow_redirects=False).status_code == 400  # state spent
    assert SESSION_COOKIE not in browser.cookies
    forged = callback.replace("state=", "state=x")
    assert browser.get(forged, follow_redirects=False).status_code == 400


def test_an_unknown_provider_is_a_404(browser: TestClient) -> None:
    assert browser.get("/connexion/oidc/autre", follow_redirects=False).status_code == 404
    assert browser.get("/connexion/oidc/autre/retour?state=a&code=b").status_code == 400


def test_the_sign_in_page_offers_the_provider(browser: TestClient) -> None:
    page = browser.get("/connexion?next=/pro")
    assert 'href="/connexion/oidc/psc?next=/pro"' in page.text
    assert "Se connecter avec Pro Santé Connect" in page.text
