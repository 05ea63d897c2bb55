"""Tables of hygie.record (migration 0012): the first-access notifier's progress.

- ``record_notifier_cursor``: one row (id 1), the index of the next audit entry to read;
- ``record_first_access``: each (patient, professional) pair already seen, so that a
  professional's first access is notified once, whatever restarts happen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, PrimaryKeyConstraint, String, Table

from hygie.db.schema import metadata

record_notifier_cursor = Table(
    "record_notifier_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("next_index", BigInteger, nullable=False),
)

record_first_access = Table(
    "record_first_access",
    metadata,
    Column("patient_ref", String(128), nullable=False),
    Column("actor_ref", String(128), nullable=False),
    Column("first_index", BigInteger, nullable=False),  # the audit entry of the first access
    Column("notified", Boolean, nullable=False),  # False: break-the-glass told the patient
    PrimaryKeyConstraint("patient_ref", "actor_ref"),
)
