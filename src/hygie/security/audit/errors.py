"""What the audit log raises. Each message says what was wrong; none carries key material."""

from __future__ import annotations


class AuditError(ValueError):
    """Base of the audit log's errors."""


class InvalidEntry(AuditError):
    """An entry (or a stored leaf) that is not a well-formed audit record."""


class ProofRangeError(AuditError):
    """A proof asked for sizes or an index the log cannot prove (out of range)."""


class AuditKeyError(AuditError):
    """The signing key file is missing, unreadable, too widely readable, or not Ed25519."""
