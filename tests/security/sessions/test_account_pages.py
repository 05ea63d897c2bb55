"""/compte/securite and /compte/sessions through HTTP with the real account service."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from hygie.security.accounts import AccountService
from hygie.security.context import Aal
from hygie.security.sessions import SESSION_COOKIE, SessionService
from tests.conftest import backends
from tests.security.sessions.helpers import (
    Clock,
    csrf_of,
    enrol_totp,
    patient,
    second_factor,
    sign_in,
)


def secret_on(page: str) -> str:
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert match, "no TOTP secret shown"
    return match.group(1)


@backends
def test_a_new_user_enrols_totp_sees_the_qr_code_and_recovery_codes_once(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    alice = patient(accounts)
    assert sign_in(client, "alice").headers["location"] == "/compte/securite"
    page = client.get("/compte/securite")
    assert "Aucun second facteur n'est configuré" in page.text
    begun = client.post("/compte/securite/totp", data={"csrf": csrf_of(page.text)})
    assert begun.status_code == 200 and "<svg" in begun.text
    assert 'aria-label="QR code de configuration TOTP"' in begun.text
    code = pyotp.TOTP(secret_on(begun.text)).at(clock())
    done = client.post(
        "/compte/securite/totp/confirmer", data={"csrf": csrf_of(begun.text), "code": code}
    )
    assert done.status_code == 200
    shown = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
    assert len(shown) == 10
    assert accounts.second_factors(alice.id) == {"totp"}
    session = sessions.lookup(client.cookies.get(SESSION_COOKIE) or "")
    assert session is not None and session.aal is Aal.TWO  # possession just proved
    again = client.get("/compte/securite")
    assert shown[0] not in again.text and "activée" in again.text


@backends
def test_a_wrong_first_code_does_not_activate_totp(
    client: TestClient, accounts: AccountService
) -> None:
    alice = patient(accounts)
    sign_in(client, "alice")
    begun = client.post(
        "/compte/securite/totp", data={"csrf": csrf_of(client.get("/compte/securite").text)}
    )
    refused = client.post(
        "/compte/securite/totp/confirmer", data={"csrf": csrf_of(begun.text), "code": "000000"}
    )
    assert refused.status_code == 400 and "Code incorrect" in refused.text
    assert accounts.second_factors(alice.id) == set()


@backends
def test_changing_mfa_needs_a_fresh_second_factor(
    client: TestClient, accounts: AccountService, clock: Clock
) -> None:
    totp = enrol_totp(accounts, patient(accounts), clock)
    sign_in(client, "alice")
    second_factor(client, totp.at(clock()))
    clock.advance(301)
    page = client.get("/compte/securite")
    assert "confirmez d'abord votre identité" in page.text
    stale = client.post(
        "/compte/securite/totp", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert stale.status_code == 303
    assert stale.headers["location"] == "/connexion/second-facteur?next=/compte/securite"
    assert (
        second_factor(client, totp.at(clock()), next_path="/compte/securite").headers["location"]
        == "/compte/securite"
    )
    fresh = client.post("/compte/securite/totp", data={"csrf": csrf_of(page.text)})
    assert fresh.status_code == 200 and "<svg" in fresh.text


@backends
def test_account_pages_need_the_second_factor_once_enrolled(
    client: TestClient, accounts: AccountService, clock: Clock
) -> None:
    enrol_totp(accounts, patient(accounts), clock)
    sign_in(client, "alice")
    for path in ("/compte/securite", "/compte/sessions"):
        answer = client.get(path, follow_redirects=False)
        assert answer.headers["location"] == f"/connexion/second-facteur?next={path}"


@backends
def test_sessions_page_lists_and_revokes_one_or_all_others(
    accounts: AccountService, sessions: SessionService, client: TestClient
) -> None:
    alice = patient(accounts)
    _, laptop = sessions.start(alice, Aal.TWO, source_ip="198.51.100.4", user_agent="Laptop/1")
    other, phone = sessions.start(alice, Aal.TWO, source_ip="203.0.113.9", user_agent="Phone/2")
    sign_in(client, "alice")
    page = client.get("/compte/sessions")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "198.51.100.4" in page.text and "Phone/2" in page.text and "(cette session)" in page.text
    token = csrf_of(page.text)
    assert (
        client.post(
            "/compte/sessions/revoquer", data={"session": other.id}, follow_redirects=False
        ).status_code
        == 403
    )
    assert sessions.lookup(phone) is not None
    revoked = client.post(
        "/compte/sessions/revoquer",
        data={"session": other.id, "csrf": token},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and sessions.lookup(phone) is None
    assert (
        client.post(
            "/compte/sessions/revoquer-autres", data={"csrf": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert sessions.lookup(laptop) is None
    assert len(sessions.list_for(alice.id)) == 1
    assert client.get("/compte/sessions").status_code == 200


@backends
def test_nobody_revokes_a_session_of_another_account(
    accounts: AccountService, sessions: SessionService, client: TestClient
) -> None:
    patient(accounts)
    bob = patient(accounts, "bob")
    bobs, secret = sessions.start(bob, Aal.TWO, source_ip="203.0.113.9", user_agent="x")
    sign_in(client, "alice")
    token = csrf_of(client.get("/compte/sessions").text)
    answer = client.post("/compte/sessions/revoquer", data={"session": bobs.id, "csrf": token})
    assert answer.status_code == 404
    assert sessions.lookup(secret) is not None
