"""Helpers of the accounts tests (no tests here): a movable clock, a cheap argon2 hasher,
RPPS numbers and a software WebAuthn authenticator (EC P-256, attestation "none")."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

from argon2 import PasswordHasher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor

GOOD_PASSWORD = "Tr3s-bon mot de passe"
ORIGIN = "https://hygie.example"
RP_ID = "hygie.example"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def cheap_hasher() -> PasswordHasher:
    """Real argon2id, with parameters small enough for many tests (not for production)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def with_luhn(body: str) -> str:
    """``body`` (10 digits) followed by its Luhn check digit: an RPPS-shaped number."""
    for check in "0123456789":
        number = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(number))
        )
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    """What a platform authenticator and the browser send back, built byte by byte after
    WebAuthn Level 2 (6.1 authenticator data, 6.5.4 "none" attestation, 5.8.1 client data)."""

    UP, UV, AT = 0x01, 0x04, 0x40

    def __init__(self, *, rp_id: str = RP_ID, origin: str = ORIGIN) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, options_json: str) -> bytes:
        challenge = json.loads(options_json)["challenge"]
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + extra

    def register(self, options_json: str, *, user_verified: bool = True) -> str:
        """The JSON of navigator.credentials.create()'s result for these options."""
        flags = self.UP | self.AT | (self.UV if user_verified else 0)
        attested = (
            bytes(16)  # AAGUID: none given
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = encode_cbor(
            {"fmt": "none", "attStmt": {}, "authData": self._auth_data(flags, attested)}
        )
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(self._client_data("webauthn.create", options_json)),
                    "attestationObject": b64url(attestation),
                },
                "clientExtensionResults": {},
            }
        )

    def authenticate(
        self, options_json: str, *, user_verified: bool = True, count_step: int = 1
    ) -> str:
        """The JSON of navigator.credentials.get()'s result; the counter moves by count_step."""
        self.sign_count += count_step
        auth_data = self._auth_data(self.UP | (self.UV if user_verified else 0))
        client_data = self._client_data("webauthn.get", options_json)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": None,
                },
                "clientExtensionResults": {},
            }
        )
