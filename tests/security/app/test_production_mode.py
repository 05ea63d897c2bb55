"""Production mode starts only with its own keys and without the published demo accounts."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.config import Settings
from hygie.db.engine import Database
from hygie.demo_accounts import DEMO_PASSWORD, DEMO_USERNAMES
from hygie.security.accounts import AccountService
from hygie.security.audit.errors import AuditKeyError
from hygie.security.context import PrincipalKind
from hygie.security.crypto.errors import KekConfigError
from hygie.security.keyfiles import KeyFileError
from hygie.security.services import UnsafeConfiguration
from tests.conftest import backends
from tests.security.app.flows import ORIGIN

KEY_VARIABLES = ("HYGIE_AUDIT_KEY_FILE", "HYGIE_KEK_FILE", "HYGIE_KEK", "HYGIE_SECRET_KEY_FILE")


def private_file(path: Path, content: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    return str(path)


def operator_keys(directory: Path) -> dict[str, str]:
    """The three key files an operator provisions, in their documented formats."""
    audit_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kek = {"active": "kek-1", "keys": {"kek-1": base64.b64encode(os.urandom(32)).decode()}}
    return {
        "HYGIE_AUDIT_KEY_FILE": private_file(directory / "audit.pem", audit_pem),
        "HYGIE_KEK_FILE": private_file(directory / "kek.json", json.dumps(kek).encode()),
        "HYGIE_SECRET_KEY_FILE": private_file(
            directory / "secret.key", base64.b64encode(os.urandom(32))
        ),
    }


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return Settings(mode="production", data_dir=tmp_path / "data", base_url=ORIGIN)


@backends
def test_production_names_each_missing_key_and_generates_none(
    production: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = operator_keys(tmp_path / "secrets")
    refusals = {
        "HYGIE_AUDIT_KEY_FILE": AuditKeyError,
        "HYGIE_KEK_FILE": KekConfigError,
        "HYGIE_SECRET_KEY_FILE": KeyFileError,
    }
    for missing, error in refusals.items():  # in the order Hygie loads them
        with pytest.raises(error, match=missing):
            create_app(production, database=database)
        monkeypatch.setenv(missing, keys[missing])
    generated = production.data_dir / "keys"
    assert not generated.exists()  # no refusal left a generated key behind
    with TestClient(create_app(production, database=database), base_url=ORIGIN) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/fhir/Patient").status_code == 401
    # Only the token signing key is created on first start (fresh, never a published one).
    assert sorted(p.name for p in generated.iterdir()) == ["oauth-signing.pem"]


@backends
def test_production_refuses_an_enabled_demo_account_until_it_is_disabled(
    production: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in operator_keys(tmp_path / "secrets").items():
        monkeypatch.setenv(name, value)
    accounts = AccountService(database)
    assert "demo.patiente" in DEMO_USERNAMES
    demo = accounts.create(
        PrincipalKind.PATIENT, "demo.patiente", DEMO_PASSWORD, display="patiente"
    )
    with pytest.raises(UnsafeConfiguration, match=r"demo\.patiente"):
        create_app(production, database=database)
    accounts.disable(demo.id)
    with TestClient(create_app(production, database=database), base_url=ORIGIN) as http:
        assert http.get("/health").status_code == 200
