"""Hygie's application secret: one random key from which purpose keys are derived.

It seals TOTP secrets, peppers recovery codes and signs CSRF tokens; each use gets its own
key through HKDF, so no two purposes ever share key material. It lives in the file named by
``HYGIE_SECRET_KEY_FILE`` (base64 of at least 32 random bytes, mode 0600), never in the
database. A demo without it generates ``DATA_DIR/keys/secret.key``; production refuses to
start without it.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hygie.security.keyfiles import KeyFileError, create_exclusive, read_private

MIN_BYTES = 32
DEV_FILE = "secret.key"


def load_app_secret(
    env: Mapping[str, str] | None = None, *, data_dir: Path, allow_generate: bool
) -> bytes:
    env = os.environ if env is None else env
    configured = env.get("HYGIE_SECRET_KEY_FILE", "")
    if configured:
        return _read(Path(configured))
    dev_file = data_dir / "keys" / DEV_FILE
    if not allow_generate:
        raise KeyFileError(
            "no application secret: set HYGIE_SECRET_KEY_FILE (base64 of 32 random bytes, "
            f"mode 0600; e.g. `head -c 32 /dev/urandom | base64`); a demo generates {dev_file}"
        )
    create_exclusive(dev_file, base64.b64encode(secrets.token_bytes(MIN_BYTES)) + b"\n")
    return _read(dev_file)


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose ("accounts", "csrf" ...), independent of the others."""
    info = f"hygie {purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def _read(path: Path) -> bytes:
    raw = read_private(path, "HYGIE_SECRET_KEY_FILE")
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"HYGIE_SECRET_KEY_FILE {path} is not base64") from None
    if len(key) < MIN_BYTES:
        raise KeyFileError(
            f"HYGIE_SECRET_KEY_FILE {path} holds {len(key)} bytes; at least {MIN_BYTES} needed"
        )
    return key
