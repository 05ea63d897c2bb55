"""Security audit log: Merkle leaves, stored subtree hashes, the head row, signed tree heads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:00:00.000000
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "security_audit_entry",
        sa.Column("idx", _SEQ, autoincrement=False, nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("time_us", sa.BigInteger(), nullable=False),
        sa.Column("patient_ref", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_security_audit_entry")),
    )
    op.create_index(
        "ix_security_audit_entry_patient", "security_audit_entry", ["patient_ref", "idx"]
    )
    op.create_table(
        "security_audit_node",
        sa.Column("pos", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_security_audit_node")),
    )
    head = op.create_table(
        "security_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_audit_head")),
    )
    # The one head row exists from the start, so appenders only ever lock it, never race to
    # create it. An empty tree's root is SHA-256 of nothing (RFC 9162 2.1.1).
    op.bulk_insert(
        head, [{"id": 1, "size": 0, "root": hashlib.sha256(b"").digest(), "frontier": b""}]
    )
    op.create_table(
        "security_audit_sth",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_security_audit_sth")),
    )


def downgrade() -> None:
    op.drop_table("security_audit_sth")
    op.drop_table("security_audit_head")
    op.drop_table("security_audit_node")
    op.drop_index("ix_security_audit_entry_patient", table_name="security_audit_entry")
    op.drop_table("security_audit_entry")
