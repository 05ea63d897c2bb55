"""Record: the first-access notifier's cursor and the pairs already notified

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_notifier_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_notifier_cursor")),
    )
    op.create_table(
        "record_first_access",
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.Column("actor_ref", sa.String(length=128), nullable=False),
        sa.Column("first_index", sa.BigInteger(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("patient_ref", "actor_ref", name=op.f("pk_record_first_access")),
    )


def downgrade() -> None:
    op.drop_table("record_first_access")
    op.drop_table("record_notifier_cursor")
