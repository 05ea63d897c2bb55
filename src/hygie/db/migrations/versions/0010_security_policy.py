"""Security policy tables: break-the-glass grants

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_policy_break_glass",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("actor_ref", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_policy_break_glass")),
    )
    op.create_index(
        "ix_security_policy_break_glass_lookup",
        "security_policy_break_glass",
        ["actor_ref", "patient_ref", "expires_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_security_policy_break_glass_lookup", table_name="security_policy_break_glass")
    op.drop_table("security_policy_break_glass")
