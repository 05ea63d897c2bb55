"""The Ed25519 key that signs tree heads, and the bytes it signs.

The key comes from ``HYGIE_AUDIT_KEY_FILE`` (a PKCS#8 PEM readable by its owner only), or,
in demo and development (``allow_generate``), from ``DATA_DIR/keys/audit-ed25519.pem``,
created with mode 0600 on first use. It never goes into the database or a log line.

What is signed is RFC 9162's TreeHeadDataV2 (section 4.10) in TLS encoding: uint64
timestamp (ms), uint64 tree_size, the root hash with its one-byte length, and an empty
two-byte extension list.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hygie.security.audit.errors import AuditKeyError

DEV_KEY_NAME = "audit-ed25519.pem"


def tree_head_data(timestamp_ms: int, tree_size: int, root_hash: bytes) -> bytes:
    """TLS encoding of RFC 9162 TreeHeadDataV2 with no extensions."""
    return struct.pack(">QQB", timestamp_ms, tree_size, len(root_hash)) + root_hash + b"\x00\x00"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class TreeHeadVerifier:
    public_key: Ed25519PublicKey = field(repr=False)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def is_valid(self, signature: bytes, timestamp_ms: int, tree_size: int, root: bytes) -> bool:
        try:
            self.public_key.verify(signature, tree_head_data(timestamp_ms, tree_size, root))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class TreeHeadSigner:
    """Signs tree heads. The repr names the key id only."""

    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def verifier(self) -> TreeHeadVerifier:
        return TreeHeadVerifier(self.private_key.public_key())

    @property
    def key_id(self) -> str:
        return self.verifier.key_id

    def sign(self, timestamp_ms: int, tree_size: int, root: bytes) -> bytes:
        return self.private_key.sign(tree_head_data(timestamp_ms, tree_size, root))


def load_signer(
    env: Mapping[str, str] | None = None, *, data_dir: Path, allow_generate: bool
) -> TreeHeadSigner:
    """The signer from ``HYGIE_AUDIT_KEY_FILE``, else (demo only) the generated key under
    ``data_dir``."""
    env = os.environ if env is None else env
    configured = env.get("HYGIE_AUDIT_KEY_FILE", "")
    if configured:
        return read_key_file(Path(configured))
    dev_file = data_dir / "keys" / DEV_KEY_NAME
    if not allow_generate:  # production never falls back on a demo's generated key
        raise AuditKeyError(
            "no audit signing key: set HYGIE_AUDIT_KEY_FILE (an Ed25519 PEM, mode 0600); "
            f"a demo generates {dev_file}"
        )
    if not dev_file.exists():
        _create_key_file(dev_file)
    return read_key_file(dev_file)


def read_key_file(path: Path) -> TreeHeadSigner:
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise AuditKeyError(
                f"audit key file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
            )
        pem = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"audit key file {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise AuditKeyError(
            f"audit key file {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"audit key file {path} holds a {type(key).__name__}, not Ed25519")
    return TreeHeadSigner(key)


def _create_key_file(path: Path) -> None:
    """Write a new key whole or not at all; if another process made one first, theirs stands."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()
