"""Discovery documents, the signing key file, client registration rules and `hygie clients`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, RSAKey

from hygie.config import Settings
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.security.oauth.cli import clients
from hygie.security.oauth.clients import ClientKind, ClientRegistry
from hygie.security.oauth.errors import ClientError
from hygie.security.oauth.keys import SigningKey, SigningKeyError
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import ISSUER


@backends
def test_smart_configuration_has_every_required_field(http: TestClient) -> None:
    smart = http.get("/.well-known/smart-configuration").json()
    assert smart["issuer"] == ISSUER
    assert smart["jwks_uri"] == f"{ISSUER}/oauth/jwks"
    assert smart["authorization_endpoint"] == f"{ISSUER}/oauth/authorize"
    assert smart["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert smart["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"
    assert smart["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert smart["code_challenge_methods_supported"] == ["S256"]
    assert smart["response_types_supported"] == ["code"]
    assert "private_key_jwt" in smart["token_endpoint_auth_methods_supported"]
    assert set(smart["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(
        smart["grant_types_supported"]
    )
    assert {"openid", "fhirUser", "launch/patient", "offline_access"} <= set(
        smart["scopes_supported"]
    )
    assert "ES256" in smart["dpop_signing_alg_values_supported"]
    assert {
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "context-standalone-patient",
        "permission-v2",
        "permission-patient",
        "permission-user",
        "sso-openid-connect",
        "authorize-post",
    } <= set(smart["capabilities"])
    openid = http.get("/.well-known/openid-configuration").json()
    assert openid["issuer"] == ISSUER and openid["id_token_signing_alg_values_supported"] == [
        "ES256"
    ]
    assert openid["subject_types_supported"] == ["public"]


@backends
def test_jwks_publishes_only_the_public_signing_key(
    http: TestClient, server: AuthorizationServer
) -> None:
    (key,) = http.get("/oauth/jwks").json()["keys"]
    assert key["kid"] == server.key.kid == ECKey.import_key(key).thumbprint()
    assert key["alg"] == "ES256" and "d" not in key


def test_signing_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    first = SigningKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SigningKey.load_or_create(path).kid == first.kid
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        SigningKey.load_or_create(path)


@backends
def test_registration_rules(database: Database) -> None:
    registry = ClientRegistry(database)
    rsa_private = RSAKey.generate_key(2048, private=True).as_dict(private=True)
    bad = [
        ({"kind": ClientKind.PUBLIC, "redirect_uris": [], "scopes": ["openid"]}, "redirect URI"),
        (
            {
                "kind": ClientKind.PUBLIC,
                "redirect_uris": ["http://app.example/cb"],
                "scopes": ["openid"],
            },
            "https",
        ),
        (
            {
                "kind": ClientKind.PUBLIC,
                "redirect_uris": ["https://a.example/cb#x"],
                "scopes": ["openid"],
            },
            "fragment",
        ),
        (
            {
                "kind": ClientKind.PUBLIC,
                "redirect_uris": ["https://a.example/cb"],
                "scopes": ["system/*.rs"],
            },
            "backend clients only",
        ),
        ({"kind": ClientKind.BACKEND, "scopes": ["patient/*.rs"]}, "system/ scopes"),
        (
            {
                "kind": ClientKind.BACKEND,
                "scopes": ["system/*.rs"],
                "jwks": {"keys": [rsa_private]},
            },
            "private key",
        ),
    ]
    for arguments, words in bad:
        with pytest.raises(ClientError, match=words):
            registry.create("App", **arguments)  # type: ignore[arg-type]
    assert registry.list() == []
    loopback, secret = registry.create(
        "Dev", ClientKind.PUBLIC, redirect_uris=["http://127.0.0.1:8765/cb"], scopes=["openid"]
    )
    assert secret is None and registry.get(loopback.id) == loopback
    assert "secret" not in repr(loopback)


def test_clients_cli_create_list_revoke(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    # Demo mode: the audit key the admin.client.* entries are signed with is generated.
    env = {"HYGIE_DATA_DIR": str(data_dir), "HYGIE_DATABASE_URL": "", "HYGIE_MODE": "demo"}
    db = Database(make_engine(Settings.from_env(env).sqlalchemy_url))
    upgrade(db.engine)
    db.dispose()

    def run(*args: str) -> Result:
        return CliRunner().invoke(clients, list(args), env=env)

    made = run(
        "create",
        "--name",
        "Portail",
        "--type",
        "confidential",
        "--redirect-uri",
        "https://portail.example/cb",
        "--scope",
        "openid patient/*.rs",
    )
    assert made.exit_code == 0, made.output
    lines = dict(line.split(": ", 1) for line in made.output.splitlines() if ": " in line)
    client_id, secret = lines["client_id"], lines["client_secret"]

    jwks_file = tmp_path / "jwks.json"
    public = ECKey.generate_key("P-384").as_dict(private=False)
    jwks_file.write_text(json.dumps({"keys": [public]}))
    backend = run(
        "create",
        "--name",
        "Labo",
        "--type",
        "backend",
        "--scope",
        "system/Observation.rs",
        "--jwks-file",
        str(jwks_file),
    )
    assert backend.exit_code == 0 and "client_secret" not in backend.output

    refused = run("create", "--name", "X", "--type", "public", "--scope", "openid")
    assert refused.exit_code != 0 and "redirect URI" in refused.output

    listed = run("list")
    assert client_id in listed.output and "active" in listed.output
    assert secret not in listed.output
    assert run("revoke", client_id).exit_code == 0
    assert f"{client_id}  confidential revoked" in run("list").output
    assert run("revoke", "nope").exit_code != 0
