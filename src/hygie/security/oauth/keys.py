"""The server's signing key: ES256, kept in a PEM file readable by its owner only.

Created on first use. Its ``kid`` is the RFC 7638 thumbprint, so a new key gets a new kid
and relying parties refetch the JWKS. The DPoP nonce secret is derived from it, so every
process that shares the key file accepts the nonces of the others.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHM = "ES256"


class SigningKeyError(RuntimeError):
    """The key file is unusable: unreadable, not an EC P-256 private key, or too open."""


class SigningKey:
    def __init__(self, key: ECKey) -> None:
        self._key = key
        self.kid = key.thumbprint()
        private = key.as_dict(private=True)
        self._nonce_secret = hmac.new(
            str(private["d"]).encode(), b"hygie dpop nonce", hashlib.sha256
        ).digest()

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = ECKey.generate_key("P-256", private=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return cls.load_or_create(path)  # another process created it first
            with os.fdopen(fd, "wb") as out:
                out.write(key.as_pem(private=True))
            return cls(key)
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyError(f"{path} must be readable by its owner only (chmod 600)")
        try:
            key = ECKey.import_key(path.read_bytes())
        except (JoseError, ValueError) as exc:
            raise SigningKeyError(f"{path} is not an EC private key: {exc}") from None
        if key.as_dict(private=False).get("crv") != "P-256" or not key.is_private:
            raise SigningKeyError(f"{path} must hold a P-256 private key")
        return cls(key)

    @property
    def nonce_secret(self) -> bytes:
        return self._nonce_secret

    def jwks(self) -> dict[str, Any]:
        public = dict(self._key.as_dict(private=False))
        public.update({"kid": self.kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": [public]}

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        header = {"alg": ALGORITHM, "typ": typ, "kid": self.kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(header, claims) of a JWT this key signed, or None; claims are not checked here."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        if decoded.header.get("kid") != self.kid:
            return None
        return dict(decoded.header), dict(decoded.claims)
