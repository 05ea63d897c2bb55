"""Wrapping a data key (DEK) under a KEK with AES-256-GCM.

Wrapped form: nonce (12) | encrypted DEK (32) + tag (16). The authenticated data names the
KEK id, the DEK id and the patient: a wrapped key copied onto another patient's row, or
relabelled with another KEK id, does not unwrap.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hygie.security.crypto.errors import KekMismatch, UnknownKek
from hygie.security.crypto.kek import KekSet

_NONCE_BYTES = 12


def wrap_dek(keks: KekSet, dek: bytes, *, dek_id: bytes, patient_ref: str) -> tuple[str, bytes]:
    """The DEK wrapped under the active KEK, with that KEK's id."""
    kek_id = keks.active_id
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(keks.active_key).encrypt(nonce, dek, _context(kek_id, dek_id, patient_ref))
    return kek_id, nonce + sealed


def unwrap_dek(
    keks: KekSet, wrapped: bytes, *, kek_id: str, dek_id: bytes, patient_ref: str
) -> bytes:
    kek = keks.keys.get(kek_id)
    if kek is None:
        raise UnknownKek(
            f"data key {dek_id.hex()} is wrapped by KEK {kek_id!r}, which is not loaded "
            f"(loaded: {', '.join(keks.ids)}); keep it in HYGIE_KEK_FILE until "
            "`hygie keys rotate` has rewrapped every data key"
        )
    try:
        return AESGCM(kek).decrypt(
            wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _context(kek_id, dek_id, patient_ref)
        )
    except InvalidTag:
        raise KekMismatch(
            f"data key {dek_id.hex()} does not unwrap with the loaded KEK {kek_id!r}: "
            "wrong key-encryption key, or the wrapped key was altered"
        ) from None


def _context(kek_id: str, dek_id: bytes, patient_ref: str) -> bytes:
    return b"\x00".join((b"hygie dek v1", kek_id.encode(), dek_id, patient_ref.encode()))
