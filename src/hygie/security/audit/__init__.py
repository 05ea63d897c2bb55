"""The tamper-evident audit log: an append-only Merkle tree (RFC 9162) with signed heads.

Every decision (permit and deny), sign-in, token issue, consent change and admin action is
an :class:`AuditEntry` appended with :meth:`AuditLog.append`. Signed tree heads (Ed25519,
key from ``HYGIE_AUDIT_KEY_FILE``), inclusion and consistency proofs let anyone check the
log; :func:`verify_log` (``hygie audit verify``) recomputes it from the stored leaves.
Each entry reads as a FHIR AuditEvent (IHE BALP) with :func:`to_audit_event`.
"""

from hygie.security.audit.entry import (
    ACTION_FAMILIES,
    Actor,
    ActorKind,
    AuditEntry,
    Outcome,
    from_leaf,
    to_leaf,
)
from hygie.security.audit.errors import AuditError, AuditKeyError, InvalidEntry, ProofRangeError
from hygie.security.audit.fhir_event import to_audit_event
from hygie.security.audit.service import (
    AuditLog,
    ConsistencyProof,
    InclusionProof,
    SignedTreeHead,
    TreeHead,
)
from hygie.security.audit.signing import (
    TreeHeadSigner,
    TreeHeadVerifier,
    load_signer,
    read_key_file,
)
from hygie.security.audit.verify import VerifyReport, verify_log

__all__ = [
    "ACTION_FAMILIES",
    "Actor",
    "ActorKind",
    "AuditEntry",
    "AuditError",
    "AuditKeyError",
    "AuditLog",
    "ConsistencyProof",
    "InclusionProof",
    "InvalidEntry",
    "Outcome",
    "ProofRangeError",
    "SignedTreeHead",
    "TreeHead",
    "TreeHeadSigner",
    "TreeHeadVerifier",
    "VerifyReport",
    "from_leaf",
    "load_signer",
    "read_key_file",
    "to_audit_event",
    "to_leaf",
    "verify_log",
]
