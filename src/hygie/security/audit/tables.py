"""The audit log's tables. Rows are only ever inserted, except the single head row.

- ``security_audit_entry``: one row per leaf, ``idx`` 0, 1, 2... with no gap.
- ``security_audit_node``: the hash of every complete subtree of two leaves or more, keyed
  by its flat in-order position (:func:`merkle.flat_position`): a proof reads its O(log n)
  nodes with one ``IN`` on the key, and the nodes over a range of leaves are a key range.
- ``security_audit_head``: one row (id 1) with the size, the root and the frontier (the
  roots of the complete subtrees that make up the tree, largest first, concatenated), so
  an append needs no read of older nodes. Appenders lock it: it serialises them.
- ``security_audit_sth``: the signed tree heads issued, one per tree size.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, String, Table

from hygie.db.schema import SeqType, metadata

security_audit_entry = Table(
    "security_audit_entry",
    metadata,
    Column("idx", SeqType, primary_key=True, autoincrement=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    # Microseconds since the Unix epoch (UTC), copied from the leaf for range queries.
    Column("time_us", BigInteger, nullable=False),
    Column("patient_ref", String(128), nullable=True),
    Index("ix_security_audit_entry_patient", "patient_ref", "idx"),
)

security_audit_node = Table(
    "security_audit_node",
    metadata,
    Column("pos", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

security_audit_head = Table(
    "security_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)

security_audit_sth = Table(
    "security_audit_sth",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
)
