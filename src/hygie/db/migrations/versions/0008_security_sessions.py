"""Security sessions tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_sessions_session",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("aal", sa.Integer(), nullable=False),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("failed_factors", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_sessions_session")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_security_sessions_session_secret_hash")),
    )
    op.create_index(
        "ix_security_sessions_session_account",
        "security_sessions_session",
        ["account_id", "revoked"],
    )
    op.create_table(
        "security_sessions_pending",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("purpose", "key", name=op.f("pk_security_sessions_pending")),
    )


def downgrade() -> None:
    op.drop_table("security_sessions_pending")
    op.drop_index("ix_security_sessions_session_account", table_name="security_sessions_session")
    op.drop_table("security_sessions_session")
