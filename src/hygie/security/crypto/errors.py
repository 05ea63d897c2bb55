"""What can go wrong with keys and ciphertexts, one precise error each.

Messages name key ids and what to do; they never carry key material, plaintext or the
patient reference (errors end up in logs).
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every encryption-at-rest error."""


class KekConfigError(CryptoError):
    """The key-encryption keys cannot be loaded: missing, unreadable, unsafe or malformed."""


class UnknownKek(CryptoError):
    """A data key is wrapped by a key-encryption key that is not loaded."""


class KekMismatch(CryptoError):
    """A data key does not unwrap with the loaded key-encryption key of the same id."""


class NoDataKey(CryptoError):
    """The patient has no data key, so nothing was ever encrypted for them here."""


class KeyDestroyed(CryptoError):
    """The patient's data key was erased (crypto-shredding): their data is unreadable for good."""


class DataKeyMismatch(CryptoError):
    """The blob was encrypted under another data key than this patient's."""


class MalformedBlob(CryptoError):
    """The bytes are not an encrypted blob (empty or truncated)."""


class UnsupportedBlobVersion(CryptoError):
    """The blob's format version is not one this Hygie can read."""


class DecryptionFailed(CryptoError):
    """Authentication failed: the blob was altered or its context (AAD) does not match."""
