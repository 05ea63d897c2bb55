"""The self-describing encrypted blob and the AES-256-GCM operations on it.

Layout, version 1::

    version (1 byte) | DEK id (16) | nonce (12, random) | ciphertext + GCM tag (16)

The authenticated data is the header (version and DEK id), the patient reference and the
caller's context, each length-prefixed: a blob copied to another resource, another version
or another patient fails authentication.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hygie.security.crypto.errors import DecryptionFailed, MalformedBlob, UnsupportedBlobVersion

VERSION = 1
DEK_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER = 1 + DEK_ID_BYTES
_MINIMUM = _HEADER + NONCE_BYTES + TAG_BYTES


@dataclass(frozen=True)
class ParsedBlob:
    header: bytes
    dek_id: bytes
    nonce: bytes
    sealed: bytes  # ciphertext + tag


def parse(blob: bytes) -> ParsedBlob:
    if not blob:
        raise MalformedBlob("empty blob: not an encrypted payload")
    if blob[0] != VERSION:
        raise UnsupportedBlobVersion(
            f"encrypted blob format version {blob[0]} is unknown (this Hygie reads {VERSION})"
        )
    if len(blob) < _MINIMUM:
        raise MalformedBlob(f"truncated blob: {len(blob)} bytes, at least {_MINIMUM} expected")
    return ParsedBlob(
        header=blob[:_HEADER],
        dek_id=blob[1:_HEADER],
        nonce=blob[_HEADER : _HEADER + NONCE_BYTES],
        sealed=blob[_HEADER + NONCE_BYTES :],
    )


def seal(cipher: AESGCM, dek_id: bytes, patient_ref: str, plaintext: bytes, aad: bytes) -> bytes:
    header = bytes([VERSION]) + dek_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plaintext, _associated(header, patient_ref, aad))
    return header + nonce + sealed


def open_sealed(cipher: AESGCM, parsed: ParsedBlob, patient_ref: str, aad: bytes) -> bytes:
    try:
        return cipher.decrypt(
            parsed.nonce, parsed.sealed, _associated(parsed.header, patient_ref, aad)
        )
    except InvalidTag:
        raise DecryptionFailed(
            "authentication failed: the blob was altered (ciphertext, nonce or tag) "
            "or its context (AAD) is not the one it was encrypted for"
        ) from None


def _associated(header: bytes, patient_ref: str, aad: bytes) -> bytes:
    ref = patient_ref.encode()
    return b"".join((header, len(ref).to_bytes(4, "big"), ref, len(aad).to_bytes(8, "big"), aad))
