"""The sign-in pages through HTTP, as a browser uses them, with the real account service."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from hygie.security.accounts import AccountService
from hygie.security.context import Aal
from hygie.security.sessions import SESSION_COOKIE, Session, SessionService
from tests.conftest import backends
from tests.security.sessions.helpers import (
    PASSWORD,
    Clock,
    csrf_of,
    enrol_totp,
    patient,
    second_factor,
    sign_in,
)


def session_of(http: TestClient, sessions: SessionService) -> Session | None:
    return sessions.lookup(http.cookies.get(SESSION_COOKIE) or "")


def test_the_sign_in_page_is_french_labelled_and_never_cached(client: TestClient) -> None:
    page = client.get("/connexion")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert '<label for="username">Identifiant</label>' in page.text
    assert '<label for="password">Mot de passe</label>' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text  # password sign-in needs no JavaScript


@backends
def test_password_then_totp_gives_an_aal2_session_with_a_host_cookie(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    totp = enrol_totp(accounts, patient(accounts), clock)
    signed = sign_in(client, "alice", next_path="/dossier?onglet=1")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/connexion/second-facteur?next=/dossier%3Fonglet%3D1"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert "domain" not in cookie.lower()
    first = session_of(client, sessions)
    assert first is not None and first.aal is Aal.ONE
    done = second_factor(client, totp.at(clock()), next_path="/dossier?onglet=1")
    assert done.status_code == 303 and done.headers["location"] == "/dossier?onglet=1"
    raised = session_of(client, sessions)
    assert raised is not None and raised.aal is Aal.TWO and raised.id == first.id


@backends
def test_a_wrong_password_and_an_unknown_user_get_the_same_generic_error(
    client: TestClient, accounts: AccountService
) -> None:
    patient(accounts)
    wrong = sign_in(client, "alice", "Pas-Le-Bon-Mot-2026")
    unknown = sign_in(client, "personne", PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in answer.text
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


@backends
def test_lockout_says_how_long_to_wait(client: TestClient, accounts: AccountService) -> None:
    patient(accounts)
    answers = [sign_in(client, "alice", "Pas-Le-Bon-Mot-2026") for _ in range(12)]
    locked = [a for a in answers if a.status_code == 429]
    assert locked, [a.status_code for a in answers]
    assert "Trop de tentatives de connexion. Réessayez dans" in locked[-1].text
    assert SESSION_COOKIE not in client.cookies


@backends
def test_sign_in_without_or_with_a_wrong_csrf_token_is_refused(
    client: TestClient, accounts: AccountService
) -> None:
    patient(accounts)
    client.get("/connexion")
    form = {"username": "alice", "password": PASSWORD}
    for extra in ({}, {"csrf": "forged"}):
        refused = client.post("/connexion", data=form | extra, follow_redirects=False)
        assert refused.status_code == 403
        assert "jeton de sécurité" in refused.text
    token = csrf_of(client.get("/connexion").text)
    other_site = client.post(
        "/connexion",
        data=form | {"csrf": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    assert SESSION_COOKIE not in client.cookies


@backends
def test_next_cannot_redirect_to_another_site(client: TestClient, accounts: AccountService) -> None:
    patient(accounts)  # no second factor: the user is sent to enrol one
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        client.cookies.clear()
        answer = sign_in(client, "alice", next_path=target)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/compte/securite"


@backends
def test_wrong_and_reused_totp_codes_are_refused(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    totp = enrol_totp(accounts, patient(accounts), clock)
    sign_in(client, "alice")
    code = totp.at(clock())
    wrong = second_factor(client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401 and "Code incorrect ou déjà utilisé" in wrong.text
    assert second_factor(client, code).status_code == 303
    client.cookies.clear()
    sign_in(client, "alice")
    reused = second_factor(client, code)
    assert reused.status_code == 401
    session = session_of(client, sessions)
    assert session is not None and session.aal is Aal.ONE


@backends
def test_a_recovery_code_works_once(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    alice = patient(accounts)
    enrolment = accounts.begin_totp(alice.id)
    codes = accounts.confirm_totp(alice.id, pyotp.TOTP(enrolment.secret).at(clock()))
    sign_in(client, "alice")
    assert second_factor(client, codes[0], "secours").status_code == 303
    client.cookies.clear()
    sign_in(client, "alice")
    assert second_factor(client, codes[0], "secours").status_code == 401


@backends
def test_second_factor_needs_the_csrf_token_of_its_own_session(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    totp = enrol_totp(accounts, patient(accounts), clock)
    sign_in(client, "alice")
    refused = client.post(
        "/connexion/second-facteur",
        data={"methode": "totp", "code": totp.at(clock()), "csrf": "forged"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    session = session_of(client, sessions)
    assert session is not None and session.aal is Aal.ONE
    assert second_factor(client, totp.at(clock())).status_code == 303  # code not spent


@backends
def test_logout_needs_csrf_then_ends_the_session(
    client: TestClient, accounts: AccountService, sessions: SessionService
) -> None:
    patient(accounts)
    sign_in(client, "alice")
    secret = client.cookies.get(SESSION_COOKIE) or ""
    assert client.post("/deconnexion", follow_redirects=False).status_code == 403
    assert sessions.lookup(secret) is not None
    token = csrf_of(client.get("/compte/securite").text)
    out = client.post("/deconnexion", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/connexion"
    assert sessions.lookup(secret) is None
    assert client.get("/compte/sessions", follow_redirects=False).headers["location"] == (
        "/connexion?next=/compte/sessions"
    )


@backends
def test_an_expired_session_sends_back_to_sign_in(
    client: TestClient, accounts: AccountService, clock: Clock
) -> None:
    patient(accounts)
    sign_in(client, "alice")
    assert client.get("/compte/sessions", follow_redirects=False).status_code == 200
    clock.advance(901)
    answer = client.get("/compte/sessions", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion")
