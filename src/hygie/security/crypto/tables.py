"""The data-key table: one row per patient, the data key (DEK) wrapped by a KEK.

The KEK itself is never stored here. Erasing a patient's key sets ``wrapped_dek`` and
``kek_id`` to NULL and keeps the row as a tombstone, so that a later read can say
"destroyed" rather than "never existed" and no new key is minted for that patient.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, String, Table

from hygie.db.schema import SeqType, metadata

security_data_key = Table(
    "security_data_key",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("patient_ref", String(128), nullable=False, unique=True),
    Column("dek_id", LargeBinary(16), nullable=False, unique=True),
    Column("kek_id", String(64), nullable=True),
    Column("wrapped_dek", LargeBinary, nullable=True),
    # Microseconds since the Unix epoch (UTC).
    Column("created_at_us", BigInteger, nullable=False),
    Column("destroyed_at_us", BigInteger, nullable=True),
    Index("ix_security_data_key_kek_id", "kek_id"),
)
