"""SMART Backend Services: client_credentials with private_key_jwt (ES384, RS384) or a secret."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, RSAKey

from hygie.security.context import Aal, PrincipalKind
from hygie.security.oauth.client_auth import ASSERTION_TYPE
from hygie.security.oauth.clients import ClientKind
from hygie.security.oauth.errors import AuthenticationFailed
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import FHIR_BASE, ISSUER, Clock, assertion


def register(server: AuthorizationServer, key: ECKey | RSAKey) -> str:
    public = key.as_dict(private=False) | {"kid": key.thumbprint()}
    client, secret = server.clients.create(
        "Laboratoire",
        ClientKind.BACKEND,
        scopes=["system/Observation.cruds"],
        jwks={"keys": [public]},
    )
    assert secret is None
    return client.id


def grant(client_assertion: str, scope: str = "system/Observation.rs") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
    }


@backends
@pytest.mark.parametrize(
    ("alg", "make_key"),
    [("ES384", lambda: ECKey.generate_key("P-384")), ("RS384", lambda: RSAKey.generate_key(2048))],
)
def test_private_key_jwt_gets_a_system_token_once_per_jti(
    http: TestClient,
    server: AuthorizationServer,
    clock: Clock,
    alg: str,
    make_key: object,
) -> None:
    key = make_key()  # type: ignore[operator]
    client_id = register(server, key)
    signed = assertion(key, alg, client_id, clock, jti="jti-1")
    answer = http.post("/oauth/token", data=grant(signed))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "system/Observation.rs"
    assert "refresh_token" not in body and "patient" not in body
    ctx = server.authenticator.authenticate(
        method="GET",
        url=f"{FHIR_BASE}/Observation",
        authorization=f"Bearer {body['access_token']}",
        dpop=None,
        network_zone="internal",
        source_ip="10.0.0.5",
    )
    assert ctx is not None and ctx.principal.kind is PrincipalKind.CLIENT
    assert ctx.principal.id == client_id and ctx.principal.display == "Laboratoire"
    assert ctx.aal is Aal.ONE and ctx.launch_patient is None

    replayed = http.post("/oauth/token", data=grant(signed))
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["error_description"]
    fresh_jti_same_claims = assertion(key, alg, client_id, clock, jti="jti-2")
    assert http.post("/oauth/token", data=grant(fresh_jti_same_claims)).status_code == 200


@backends
def test_bad_assertions_are_refused(
    http: TestClient, server: AuthorizationServer, clock: Clock
) -> None:
    key = ECKey.generate_key("P-384")
    client_id = register(server, key)
    other = ECKey.generate_key("P-384")
    cases = {
        "not signed by a registered key": assertion(other, "ES384", client_id, clock),
        "aud must be the token endpoint": assertion(key, "ES384", client_id, clock, aud=ISSUER),
        "within the next five minutes": assertion(key, "ES384", client_id, clock, lifetime=600),
        "RS384 or ES384": assertion(ECKey.generate_key("P-256"), "ES256", client_id, clock),
    }
    for words, signed in cases.items():
        answer = http.post("/oauth/token", data=grant(signed))
        assert answer.status_code == 401, words
        assert answer.json()["error"] == "invalid_client"
        assert words in answer.json()["error_description"]
    expired = assertion(key, "ES384", client_id, clock)
    clock.advance(300)
    assert http.post("/oauth/token", data=grant(expired)).status_code == 401


@backends
def test_scopes_are_limited_to_the_registration_and_to_system(
    http: TestClient, server: AuthorizationServer, clock: Clock
) -> None:
    key = ECKey.generate_key("P-384")
    client_id = register(server, key)
    for scope in ("system/Patient.rs", "patient/Observation.rs", ""):
        answer = http.post(
            "/oauth/token", data=grant(assertion(key, "ES384", client_id, clock), scope)
        )
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope", scope


@backends
def test_backend_with_secret_and_user_apps_cannot_use_client_credentials(
    http: TestClient, server: AuthorizationServer
) -> None:
    backend, secret = server.clients.create("Entrepôt", ClientKind.BACKEND, scopes=["system/*.rs"])
    assert secret is not None
    data = {"grant_type": "client_credentials", "scope": "system/Patient.rs"}
    assert http.post("/oauth/token", data=data, auth=(backend.id, secret)).status_code == 200
    app, app_secret = server.clients.create(
        "Portail",
        ClientKind.CONFIDENTIAL,
        redirect_uris=["https://a.example/cb"],
        scopes=["patient/*.rs"],
    )
    assert app_secret is not None
    refused = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "patient/*.rs"},
        auth=(app.id, app_secret),
    )
    assert refused.json()["error"] == "unauthorized_client"


@backends
def test_revoked_backend_client_loses_its_live_token(
    http: TestClient, server: AuthorizationServer, clock: Clock
) -> None:
    key = ECKey.generate_key("P-384")
    client_id = register(server, key)
    token = http.post("/oauth/token", data=grant(assertion(key, "ES384", client_id, clock))).json()[
        "access_token"
    ]
    server.clients.revoke(client_id)
    with pytest.raises(AuthenticationFailed) as failed:
        server.authenticator.authenticate(
            method="GET",
            url=f"{FHIR_BASE}/Observation",
            authorization=f"Bearer {token}",
            dpop=None,
            network_zone="internal",
            source_ip="10.0.0.5",
        )
    assert failed.value.status == 401
    assert 'error="invalid_token"' in failed.value.www_authenticate
    again = http.post("/oauth/token", data=grant(assertion(key, "ES384", client_id, clock)))
    assert again.status_code == 401
