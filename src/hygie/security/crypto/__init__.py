"""Encryption at rest: AES-256-GCM envelope encryption under per-patient data keys.

Document contents and message bodies are sealed with :meth:`Keyring.encrypt` under the
patient's data key (DEK); DEKs are stored wrapped by a key-encryption key (KEK) that comes
from ``HYGIE_KEK_FILE`` or ``HYGIE_KEK``, never from the database. ``hygie keys rotate``
rewraps DEKs under a new KEK; :meth:`Keyring.erase_patient_key` crypto-shreds a patient.
"""

from hygie.security.crypto.errors import (
    CryptoError,
    DataKeyMismatch,
    DecryptionFailed,
    KekConfigError,
    KekMismatch,
    KeyDestroyed,
    MalformedBlob,
    NoDataKey,
    UnknownKek,
    UnsupportedBlobVersion,
)
from hygie.security.crypto.kek import KekSet, add_kek, load_keks, read_kek_file
from hygie.security.crypto.keyring import Keyring
from hygie.security.crypto.rotation import KeyStatus, RotationReport, key_status, rotate

__all__ = [
    "CryptoError",
    "DataKeyMismatch",
    "DecryptionFailed",
    "KekConfigError",
    "KekMismatch",
    "KekSet",
    "KeyDestroyed",
    "KeyStatus",
    "Keyring",
    "MalformedBlob",
    "NoDataKey",
    "RotationReport",
    "UnknownKek",
    "UnsupportedBlobVersion",
    "add_kek",
    "key_status",
    "load_keks",
    "read_kek_file",
    "rotate",
]
