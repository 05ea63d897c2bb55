"""Codes and refresh tokens misused: PKCE, reuse, expiry, rotation and family revocation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hygie.security.audit import AuditLog
from hygie.security.context import RequestContext
from hygie.security.oauth.clients import Client
from hygie.security.oauth.errors import AuthenticationFailed
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import (
    FHIR_BASE,
    REDIRECT,
    Clock,
    DpopKey,
    authorize_params,
    get_code,
    pkce,
    token_request,
)


def code_exchange(code: str, verifier: str, client_id: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
    }


def works(server: AuthorizationServer, token: str, dpop: DpopKey) -> bool:
    url = f"{FHIR_BASE}/Patient/p1"
    try:
        server.authenticator.authenticate(
            method="GET",
            url=url,
            authorization=f"DPoP {token}",
            dpop=dpop.proof("GET", url, token=token),
            network_zone="internet",
            source_ip="192.0.2.1",
        )
    except AuthenticationFailed:
        return False
    return True


def audit_actions(log: AuditLog) -> list[str]:
    return [log.entry(index).action for index in range(log.tree_head().tree_size)]


@backends
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"code_verifier": ""}, "code_verifier is required"),
        ({"code_verifier": "x" * 43}, "does not match"),
        ({"redirect_uri": "https://app.example/other"}, "redirect_uri differs"),
        ({"code": "forged-code"}, "unknown authorization code"),
    ],
)
def test_code_exchange_errors(
    http: TestClient,
    public_app: Client,
    alice_signed_in: RequestContext,
    clock: Clock,
    change: dict[str, str],
    words: str,
) -> None:
    verifier, challenge = pkce()
    code = get_code(http, authorize_params(public_app.id, challenge))
    data = code_exchange(code, verifier, public_app.id) | change
    answer = token_request(http, data, DpopKey(clock))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert words in answer.json()["error_description"]
    assert answer.headers["cache-control"] == "no-store"


@backends
def test_code_is_dead_after_60_seconds(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext, clock: Clock
) -> None:
    verifier, challenge = pkce()
    code = get_code(http, authorize_params(public_app.id, challenge))
    clock.advance(61)
    answer = token_request(http, code_exchange(code, verifier, public_app.id), DpopKey(clock))
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "authorization code expired",
    }


@backends
def test_code_reuse_revokes_the_tokens_it_gave(
    http: TestClient,
    server: AuthorizationServer,
    public_app: Client,
    alice_signed_in: RequestContext,
    audit: AuditLog,
    clock: Clock,
) -> None:
    verifier, challenge = pkce()
    dpop = DpopKey(clock)
    code = get_code(http, authorize_params(public_app.id, challenge))
    first = token_request(http, code_exchange(code, verifier, public_app.id), dpop).json()
    assert works(server, first["access_token"], dpop)
    again = token_request(http, code_exchange(code, verifier, public_app.id), dpop)
    assert again.json()["error"] == "invalid_grant"
    assert not works(server, first["access_token"], dpop)
    refresh = token_request(
        http,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": public_app.id,
        },
        dpop,
    )
    assert refresh.json()["error"] == "invalid_grant"
    assert "token.reuse-detected" in audit_actions(audit)


@backends
def test_refresh_rotates_and_a_stale_refresh_token_revokes_the_family(
    http: TestClient,
    server: AuthorizationServer,
    public_app: Client,
    alice_signed_in: RequestContext,
    audit: AuditLog,
    clock: Clock,
) -> None:
    verifier, challenge = pkce()
    dpop = DpopKey(clock)
    code = get_code(http, authorize_params(public_app.id, challenge))
    first = token_request(http, code_exchange(code, verifier, public_app.id), dpop).json()

    def refresh(token: str, key: DpopKey = dpop) -> dict[str, str]:
        data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": public_app.id}
        return dict(token_request(http, data, key).json())

    second = refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["patient"] == "p1" and second["token_type"] == "DPoP"
    assert works(server, second["access_token"], dpop)

    # Someone else presents another key: refused, and the token is not spent by it.
    assert refresh(second["refresh_token"], DpopKey(clock))["error"] == "invalid_grant"

    # The stale first token comes back: the whole family dies, the newest tokens too.
    stale = refresh(first["refresh_token"])
    assert stale["error"] == "invalid_grant" and "revoked" in stale["error_description"]
    assert not works(server, second["access_token"], dpop)
    assert refresh(second["refresh_token"])["error"] == "invalid_grant"
    assert audit_actions(audit).count("token.reuse-detected") == 1
    assert "token.refresh" in audit_actions(audit)


@backends
def test_public_client_without_dpop_gets_nothing(
    http: TestClient, public_app: Client, alice_signed_in: RequestContext
) -> None:
    verifier, challenge = pkce()
    code = get_code(http, authorize_params(public_app.id, challenge))
    answer = http.post("/oauth/token", data=code_exchange(code, verifier, public_app.id))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_dpop_proof"


@backends
def test_confidential_client_with_wrong_secret_is_unauthorized(
    http: TestClient,
    confidential_app: tuple[Client, str],
    alice_signed_in: RequestContext,
    audit: AuditLog,
) -> None:
    client, _ = confidential_app
    verifier, challenge = pkce()
    code = get_code(http, authorize_params(client.id, challenge))
    data = code_exchange(code, verifier, client.id)
    answer = http.post("/oauth/token", data=data, auth=(client.id, "wrong"))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["www-authenticate"].startswith("Basic")
    no_secret = http.post("/oauth/token", data=data)
    assert no_secret.status_code == 401
    assert "auth.client" in audit_actions(audit)
