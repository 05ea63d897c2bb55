"""Security: per-patient data keys (DEKs) wrapped by a key-encryption key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_data_key",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.Column("dek_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=True),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("destroyed_at_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_security_data_key")),
        sa.UniqueConstraint("patient_ref", name=op.f("uq_security_data_key_patient_ref")),
        sa.UniqueConstraint("dek_id", name=op.f("uq_security_data_key_dek_id")),
    )
    op.create_index("ix_security_data_key_kek_id", "security_data_key", ["kek_id"])


def downgrade() -> None:
    op.drop_index("ix_security_data_key_kek_id", table_name="security_data_key")
    op.drop_table("security_data_key")
