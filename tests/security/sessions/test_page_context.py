"""page_context for other routers, the static assets, and the per-session factor limit."""

from __future__ import annotations

from fastapi import Request
from fastapi.testclient import TestClient

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.sessions import SESSION_COOKIE, SessionService, page_context_factory
from tests.conftest import backends
from tests.security.sessions.conftest import pages_app
from tests.security.sessions.helpers import (
    ORIGIN,
    Clock,
    csrf_of,
    enrol_totp,
    patient,
    second_factor,
    sign_in,
)


@backends
def test_page_context_gives_other_routers_the_signed_in_user(
    database: Database, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    totp = enrol_totp(accounts, patient(accounts), clock)
    app = pages_app(database, sessions, accounts)
    page_context = page_context_factory(sessions, lambda ip: f"zone-of-{ip}")

    @app.get("/qui")
    def who(request: Request) -> dict[str, object]:
        ctx = page_context(request)
        if ctx is None:
            return {"anonymous": True}
        return {"id": ctx.principal.id, "aal": int(ctx.aal), "zone": ctx.network_zone}

    with TestClient(app, base_url=ORIGIN) as http:
        assert http.get("/qui").json() == {"anonymous": True}
        sign_in(http, "alice")
        seen = http.get("/qui").json()
        assert seen["aal"] == 1 and seen["zone"] == "zone-of-testclient"
        second_factor(http, totp.at(clock()))
        assert http.get("/qui").json()["aal"] == 2
        http.cookies.set(SESSION_COOKIE, "forged", domain="testserver.local")
        assert http.get("/qui").json() == {"anonymous": True}


@backends
def test_five_wrong_codes_end_the_session(
    client: TestClient, accounts: AccountService, sessions: SessionService, clock: Clock
) -> None:
    enrol_totp(accounts, patient(accounts), clock)
    sign_in(client, "alice")
    secret = client.cookies.get(SESSION_COOKIE) or ""
    answers = [second_factor(client, "000000") for _ in range(4)]
    assert {a.status_code for a in answers} == {401}
    token = csrf_of(client.get("/connexion/second-facteur").text)
    last = client.post(
        "/connexion/second-facteur",
        data={"methode": "totp", "code": "000000", "csrf": token},
        follow_redirects=False,
    )
    assert last.status_code == 401 and "reconnectez-vous" in last.text
    assert sessions.lookup(secret) is None


def test_a_signed_in_form_posted_from_another_origin_is_refused(
    client: TestClient, accounts: AccountService, sessions: SessionService
) -> None:
    patient(accounts)
    sign_in(client, "alice")
    secret = client.cookies.get(SESSION_COOKIE) or ""
    token = csrf_of(client.get("/compte/sessions").text)
    answer = client.post(
        "/deconnexion", data={"csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403 and sessions.lookup(secret) is not None


def test_static_assets_are_served_and_nothing_else(client: TestClient) -> None:
    script = client.get("/connexion/static/passkey.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert "navigator.credentials" in script.text
    assert client.get("/connexion/static/auth.css").status_code == 200
    assert client.get("/connexion/static/..%2Fservice.py").status_code == 404
