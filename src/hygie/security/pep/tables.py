"""Tables of hygie.security.pep (migration 0011): what patients' privacy Consents imply.

Kept by :class:`hygie.security.pep.consents.ConsentIndex` in the transaction that writes the
Consent, so that searches can exclude rows in SQL. Each row names the Consent it comes
from: updating or deleting that Consent replaces or removes its rows.

- ``security_pep_blocked``: a patient blocks a Practitioner or an Organization;
- ``security_pep_masked``: a patient masks a DocumentReference from all but its authors
  (the authors are read from the document itself, so a corrected author list counts);
- ``security_pep_no_emergency``: a patient refuses break-the-glass access.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, PrimaryKeyConstraint, String, Table

from hygie.db.schema import metadata

_REF = 128

security_pep_blocked = Table(
    "security_pep_blocked",
    metadata,
    Column("consent_ref", String(_REF), nullable=False),
    Column("patient_ref", String(_REF), nullable=False),
    Column("actor_ref", String(_REF), nullable=False),
    PrimaryKeyConstraint("consent_ref", "actor_ref"),
    Index("ix_security_pep_blocked_patient", "patient_ref", "actor_ref"),
)

security_pep_masked = Table(
    "security_pep_masked",
    metadata,
    Column("consent_ref", String(_REF), nullable=False),
    Column("document_ref", String(_REF), nullable=False),
    Column("patient_ref", String(_REF), nullable=False),
    PrimaryKeyConstraint("consent_ref", "document_ref"),
    Index("ix_security_pep_masked_document", "document_ref"),
)

security_pep_no_emergency = Table(
    "security_pep_no_emergency",
    metadata,
    Column("consent_ref", String(_REF), nullable=False),
    Column("patient_ref", String(_REF), nullable=False),
    PrimaryKeyConstraint("consent_ref"),
    Index("ix_security_pep_no_emergency_patient", "patient_ref"),
)
