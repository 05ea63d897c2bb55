"""Passkeys through the pages' JSON endpoints, with a software authenticator (the same
bytes a browser sends) and the real account service."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from hygie.security.accounts import AccountService
from hygie.security.context import Aal
from hygie.security.sessions import SESSION_COOKIE, SessionService
from tests.conftest import backends
from tests.security.accounts.helpers import SoftAuthenticator
from tests.security.sessions.helpers import ORIGIN, csrf_of, patient, sign_in


def passkey_call(http: TestClient, url: str, token: str, body: str = "{}") -> tuple[int, str]:
    answer = http.post(
        url, content=body, headers={"X-CSRF-Token": token, "Content-Type": "application/json"}
    )
    return answer.status_code, answer.text


def aal(http: TestClient, sessions: SessionService) -> Aal | None:
    session = sessions.lookup(http.cookies.get(SESSION_COOKIE) or "")
    return None if session is None else session.aal


@backends
def test_a_user_registers_a_passkey_from_the_security_page(
    client: TestClient, accounts: AccountService, sessions: SessionService
) -> None:
    alice = patient(accounts)
    sign_in(client, "alice")
    page = client.get("/compte/securite")
    assert 'src="/connexion/static/passkey.js"' in page.text
    token = csrf_of(page.text)
    assert passkey_call(client, "/compte/securite/passkey/options", "forged")[0] == 403
    status, options = passkey_call(client, "/compte/securite/passkey/options", token)
    assert status == 200 and json.loads(options)["rp"]["id"] == "testserver"
    device = SoftAuthenticator(rp_id="testserver", origin=ORIGIN)
    status, body = passkey_call(client, "/compte/securite/passkey", token, device.register(options))
    assert status == 200 and json.loads(body) == {"next": "/compte/securite"}
    assert accounts.second_factors(alice.id) == {"passkey"}
    assert aal(client, sessions) is Aal.TWO
    # The challenge was single use: the same response again is refused.
    status, _ = passkey_call(client, "/compte/securite/passkey", token, device.register(options))
    assert status == 400


def enrolled(accounts: AccountService, account_id: str) -> SoftAuthenticator:
    device = SoftAuthenticator(rp_id="testserver", origin=ORIGIN)
    options, state = accounts.passkey_registration_options(
        account_id, rp_id="testserver", rp_name="Hygie"
    )
    accounts.finish_passkey_registration(
        account_id, device.register(options), state=state, origin=ORIGIN, rp_id="testserver"
    )
    return device


@backends
def test_a_passkey_is_a_second_factor_that_raises_the_session_to_aal2(
    client: TestClient, accounts: AccountService, sessions: SessionService
) -> None:
    device = enrolled(accounts, patient(accounts).id)
    sign_in(client, "alice")
    before = client.cookies.get(SESSION_COOKIE)
    page = client.get("/connexion/second-facteur?next=/dossier")
    assert "Utiliser ma clé d'accès" in page.text
    token = csrf_of(page.text)
    status, options = passkey_call(client, "/connexion/second-facteur/passkey/options", token)
    assert status == 200
    status, body = passkey_call(
        client,
        "/connexion/second-facteur/passkey?next=/dossier",
        token,
        device.authenticate(options),
    )
    assert status == 200 and json.loads(body) == {"next": "/dossier"}
    assert aal(client, sessions) is Aal.TWO
    assert client.cookies.get(SESSION_COOKIE) != before  # rotated on elevation


@backends
def test_a_passkey_without_user_verification_or_csrf_is_refused(
    client: TestClient, accounts: AccountService, sessions: SessionService
) -> None:
    device = enrolled(accounts, patient(accounts).id)
    sign_in(client, "alice")
    token = csrf_of(client.get("/connexion/second-facteur").text)
    _, options = passkey_call(client, "/connexion/second-facteur/passkey/options", token)
    status, _ = passkey_call(
        client, "/connexion/second-facteur/passkey", "forged", device.authenticate(options)
    )
    assert status == 403
    status, body = passkey_call(
        client,
        "/connexion/second-facteur/passkey",
        token,
        device.authenticate(options, user_verified=False),
    )
    assert status == 401 and "refusée" in json.loads(body)["error"]
    assert aal(client, sessions) is Aal.ONE
