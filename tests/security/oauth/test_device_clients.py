"""Device clients: registered with a key and a FHIR Device, signed in with private_key_jwt,
authenticated as that Device with the posture the operators set (`hygie clients posture`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey

from hygie.config import Settings
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.security.audit import AuditLog, load_signer
from hygie.security.audit.entry import ActorKind
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.oauth.cli import clients
from hygie.security.oauth.client_auth import ASSERTION_TYPE
from hygie.security.oauth.clients import ClientKind, ClientRegistry, Posture
from hygie.security.oauth.errors import ClientError, UnknownClient
from hygie.security.oauth.server import AuthorizationServer
from tests.conftest import backends
from tests.security.oauth.helpers import FHIR_BASE, Clock, assertion

SCOPE = "system/Observation.c"


def jwks(key: ECKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) | {"kid": key.thumbprint()}]}


def authenticate(server: AuthorizationServer, token: str) -> RequestContext:
    ctx = server.authenticator.authenticate(
        method="POST",
        url=f"{FHIR_BASE}/Observation",
        authorization=f"Bearer {token}",
        dpop=None,
        network_zone="internal",
        source_ip="10.0.0.7",
    )
    assert ctx is not None
    return ctx


@backends
def test_a_device_signs_in_as_its_device_with_its_posture(
    http: TestClient, server: AuthorizationServer, clock: Clock
) -> None:
    key = ECKey.generate_key("P-384")
    device, _ = server.clients.create(
        "Moniteur 12", ClientKind.DEVICE, scopes=[SCOPE], jwks=jwks(key), device_ref="Device/m12"
    )
    form = {
        "grant_type": "client_credentials",
        "scope": SCOPE,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(key, "ES384", device.id, clock),
    }
    answer = http.post("/oauth/token", data=form)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]

    ctx = authenticate(server, token)
    assert ctx.principal.kind is PrincipalKind.DEVICE
    assert (ctx.principal.id, ctx.principal.fhir_ref) == (device.id, "Device/m12")
    assert ctx.principal.display == "Moniteur 12" and ctx.device_posture == "unknown"

    introspect = form | {
        "token": token,
        "client_assertion": assertion(key, "ES384", device.id, clock),
    }
    refused = http.post("/oauth/introspect", data=introspect)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"

    # A change in this process reaches the very next request, not one a second later.
    server.clients.set_posture(device.id, Posture.QUARANTINED)
    assert authenticate(server, token).device_posture == "quarantined"
    server.clients.set_posture(device.id, Posture.COMPLIANT)
    assert authenticate(server, token).device_posture == "compliant"


@backends
def test_device_registration_rules(database: Database) -> None:
    clock = Clock()
    registry = ClientRegistry(database, clock=clock)
    key = ECKey.generate_key("P-384")
    bad = [
        ({"device_ref": "Device/m1"}, "public key"),
        ({"jwks": jwks(key)}, "Device/<id>"),
        ({"jwks": jwks(key), "device_ref": "Patient/p1"}, "Device/<id>"),
        ({"jwks": jwks(key), "device_ref": "Device/m1", "scopes": ["user/*.rs"]}, "system/"),
        (
            {"jwks": jwks(key), "device_ref": "Device/m1", "redirect_uris": ["https://a.example"]},
            "no redirect URI",
        ),
    ]
    for arguments, words in bad:
        with pytest.raises(ClientError, match=words):
            registry.create("Pompe", ClientKind.DEVICE, **{"scopes": [SCOPE], **arguments})  # type: ignore[arg-type]
    with pytest.raises(ClientError, match="only device clients"):
        registry.create("Labo", ClientKind.BACKEND, scopes=[SCOPE], device_ref="Device/m1")
    assert registry.list() == []

    first, secret = registry.create(
        "Pompe", ClientKind.DEVICE, scopes=[SCOPE], jwks=jwks(key), device_ref="Device/m1"
    )
    assert secret is None and not first.has_secret
    assert (first.posture, first.posture_at) == (Posture.UNKNOWN, int(clock()))
    # One active client per Device, so that its posture is the device's.
    with pytest.raises(ClientError, match="revoke it first"):
        registry.create(
            "Pompe", ClientKind.DEVICE, scopes=[SCOPE], jwks=jwks(key), device_ref="Device/m1"
        )
    clock.advance(60)
    changed = registry.set_posture(first.id, Posture.COMPLIANT)
    assert (changed.posture, changed.posture_at) == (Posture.COMPLIANT, int(clock()))
    registry.revoke(first.id)
    again, _ = registry.create(
        "Pompe", ClientKind.DEVICE, scopes=[SCOPE], jwks=jwks(key), device_ref="Device/m1"
    )
    assert again.posture is Posture.UNKNOWN

    backend, _ = registry.create("Labo", ClientKind.BACKEND, scopes=[SCOPE], jwks=jwks(key))
    with pytest.raises(UnknownClient):
        registry.set_posture(backend.id, Posture.QUARANTINED)
    assert registry.get(backend.id) == backend


def test_clients_cli_registers_a_device_and_sets_its_posture(tmp_path: Path) -> None:
    env = {"HYGIE_DATA_DIR": str(tmp_path / "var"), "HYGIE_DATABASE_URL": "", "HYGIE_MODE": "demo"}
    settings = Settings.from_env(env)
    db = Database(make_engine(settings.sqlalchemy_url))
    upgrade(db.engine)

    def run(*args: str) -> Result:
        return CliRunner().invoke(clients, list(args), env=env)

    jwks_file = tmp_path / "pump.jwks.json"
    jwks_file.write_text(json.dumps(jwks(ECKey.generate_key("P-384"))))
    common = ["create", "--name", "Pompe 7", "--type", "device", "--scope", SCOPE]
    keyless = run(*common, "--device", "Device/pump-7")
    assert keyless.exit_code != 0 and "public key" in keyless.output
    made = run(*common, "--jwks-file", str(jwks_file), "--device", "Device/pump-7")
    assert made.exit_code == 0, made.output
    lines = dict(line.split(": ", 1) for line in made.output.splitlines())
    assert lines["posture"] == "unknown" and "client_secret" not in lines
    client_id = lines["client_id"]
    assert "Device/pump-7 unknown" in run("list").output

    changed = run("posture", client_id, "quarantined")
    assert changed.exit_code == 0, changed.output
    assert "Device/pump-7 quarantined" in run("list").output
    assert run("posture", client_id, "broken").exit_code != 0
    assert "no device client" in run("posture", "nope", "compliant").output

    log = AuditLog(db, load_signer({}, data_dir=settings.data_dir, allow_generate=True))
    entries = [log.entry(i) for i in range(log.tree_head().tree_size)]
    assert [(e.action, e.resource, e.actor.kind) for e in entries] == [  # the CLI wrote them
        ("admin.client.create", "Device/pump-7", ActorKind.SYSTEM),
        ("admin.client.posture", "Device/pump-7", ActorKind.SYSTEM),
    ]
    assert "posture quarantined" in (entries[1].reason or "")
    db.dispose()
