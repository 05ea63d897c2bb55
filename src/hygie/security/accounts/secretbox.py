"""Keys derived from the service's optional secret key: TOTP secrets at rest, recovery codes.

With a key, TOTP secrets are stored sealed with AES-256-GCM (the account id as associated
data, so a sealed secret copied to another account does not open) and recovery codes are
hashed with HMAC-SHA256 under a pepper: a stolen database then yields neither. Without a
key, secrets are stored as they are (marked so) and the HMAC key is a fixed label.

Recovery codes are random with 80 bits of entropy, so a fast keyed hash is enough: slow
hashing is for low-entropy human secrets, and it would make each code check cost ten
argon2 runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PLAIN = b"\x00"
_SEALED = b"\x01"
_NONCE_BYTES = 12
MIN_KEY_BYTES = 32


class SecretKeyError(RuntimeError):
    """A sealed TOTP secret that the service cannot open: no secret key, or another one."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


class SecretBox:
    def __init__(self, secret_key: bytes | None) -> None:
        if secret_key is not None and len(secret_key) < MIN_KEY_BYTES:
            raise ValueError(f"the accounts secret key must have at least {MIN_KEY_BYTES} bytes")
        self._aead = (
            None if secret_key is None else AESGCM(_derive(secret_key, b"hygie accounts totp"))
        )
        self._pepper = (
            b"hygie accounts recovery codes"
            if secret_key is None
            else _derive(secret_key, b"hygie accounts recovery")
        )

    def seal(self, account_id: str, secret: str) -> bytes:
        if self._aead is None:
            return _PLAIN + secret.encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _SEALED + nonce + self._aead.encrypt(nonce, secret.encode(), account_id.encode())

    def open(self, account_id: str, stored: bytes) -> str:
        tag, body = stored[:1], stored[1:]
        if tag == _PLAIN:
            return body.decode()
        if self._aead is None:
            raise SecretKeyError("a TOTP secret is encrypted: give the accounts secret key")
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, account_id.encode()).decode()
        except InvalidTag:
            raise SecretKeyError(
                "a TOTP secret does not open with this key: is it the accounts secret key?"
            ) from None

    def code_hash(self, code: str) -> bytes:
        return hmac.new(self._pepper, code.encode(), hashlib.sha256).digest()
