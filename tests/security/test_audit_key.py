"""The tree-head signing key: from HYGIE_AUDIT_KEY_FILE, or generated 0600 for a demo."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from hygie.security.audit import AuditKeyError, load_signer, read_key_file


def test_a_demo_key_is_generated_once_owner_only(tmp_path: Path) -> None:
    signer = load_signer({}, data_dir=tmp_path, allow_generate=True)
    key_file = tmp_path / "keys" / "audit-ed25519.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = load_signer({}, data_dir=tmp_path, allow_generate=True)
    assert again.key_id == signer.key_id
    signature = signer.sign(1, 2, b"r" * 32)
    assert again.verifier.is_valid(signature, 1, 2, b"r" * 32)
    pem = key_file.read_bytes()
    assert pem.decode() not in repr(signer) and signer.key_id not in pem.decode()


def test_production_without_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="HYGIE_AUDIT_KEY_FILE"):
        load_signer({}, data_dir=tmp_path, allow_generate=False)
    assert not (tmp_path / "keys").exists()


def test_the_configured_key_file_wins(tmp_path: Path) -> None:
    demo = load_signer({}, data_dir=tmp_path / "demo", allow_generate=True)
    configured = tmp_path / "demo" / "keys" / "audit-ed25519.pem"
    other = load_signer(
        {"HYGIE_AUDIT_KEY_FILE": str(configured)},
        data_dir=tmp_path / "elsewhere",
        allow_generate=True,
    )
    assert other.key_id == demo.key_id
    assert not (tmp_path / "elsewhere").exists()


def test_a_group_readable_key_file_is_refused(tmp_path: Path) -> None:
    load_signer({}, data_dir=tmp_path, allow_generate=True)
    key_file = tmp_path / "keys" / "audit-ed25519.pem"
    key_file.chmod(0o640)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        read_key_file(key_file)


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "ec.pem"
    key_file.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    with pytest.raises(AuditKeyError, match="not Ed25519"):
        read_key_file(key_file)
    key_file.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    with pytest.raises(AuditKeyError, match="not an unencrypted PEM"):
        read_key_file(key_file)
    with pytest.raises(AuditKeyError, match="No such file"):
        read_key_file(tmp_path / "missing.pem")
