"""Building the whole app in tests: demo-mode settings and a backend client's access token.

Tests of the FHIR engine, the location API and the pages go through the real edge: they
authenticate like an integrating system would (client_credentials at /oauth/token).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from hygie.config import Settings
from hygie.security.accounts import Account
from hygie.security.context import Aal, PrincipalKind
from hygie.security.oauth.clients import ClientKind
from hygie.security.sessions import SESSION_COOKIE

BASE = "http://testserver"


def demo_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Demo mode: keys generated under ``data_dir``; never the developer's ./var."""
    values: dict[str, Any] = {"mode": "demo", "data_dir": data_dir, "base_url": BASE}
    values.update(overrides)
    return Settings(**values)


def backend_token(client: TestClient, scope: str = "system/*.cruds") -> str:
    """Register a backend service with a secret and get its access token over HTTP."""
    security = client.app.state.security  # type: ignore[attr-defined]
    registered, secret = security.oauth.clients.create(
        "tests", ClientKind.BACKEND, scopes=scope.split()
    )
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(registered.id, secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def backend_headers(app: Any, scope: str = "system/*.cruds") -> dict[str, str]:
    """The Authorization header of a fresh backend service, for clients that are not a
    TestClient (httpx over ASGITransport); the token comes from the token endpoint's code."""
    security = app.state.security
    registered, secret = security.oauth.clients.create(
        "tests", ClientKind.BACKEND, scopes=scope.split()
    )
    basic = base64.b64encode(f"{registered.id}:{secret}".encode()).decode()
    response = security.oauth.token(
        {"grant_type": "client_credentials", "scope": scope},
        authorization=f"Basic {basic}",
        dpop=None,
    )
    return {"authorization": f"Bearer {response.body['access_token']}"}


def authorize(client: TestClient, scope: str = "system/*.cruds") -> TestClient:
    """Send every later request of ``client`` with a backend service's bearer token."""
    client.headers["authorization"] = f"Bearer {backend_token(client, scope)}"
    return client


def sign_in(
    client: TestClient,
    kind: PrincipalKind = PrincipalKind.PATIENT,
    *,
    username: str = "test.patiente",
    aal: Aal = Aal.TWO,
    **account: Any,
) -> Account:
    """Give ``client`` the session cookie of a new account, as the sign-in pages would after
    the password (and, at AAL2, the second factor); tests/security/sessions covers the pages."""
    security = client.app.state.security  # type: ignore[attr-defined]
    created: Account = security.accounts.create(
        kind, username, "Tests-Hygie-2026!", display=username, **account
    )
    _, cookie = security.sessions.start(created, aal, source_ip="testclient", user_agent="tests")
    client.cookies.set(SESSION_COOKIE, cookie)
    return created
