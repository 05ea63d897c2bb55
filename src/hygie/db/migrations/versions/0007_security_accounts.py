"""Security accounts: accounts, sign-in throttling, TOTP, recovery codes, passkeys

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _account_id(table: str) -> sa.Column[str]:
    return sa.Column(
        "account_id",
        sa.String(length=32),
        sa.ForeignKey(
            "security_accounts_account.id", name=f"fk_{table}_account", ondelete="CASCADE"
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "security_accounts_account",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("fhir_ref", sa.String(length=128), nullable=True),
        sa.Column("organization_ref", sa.String(length=128), nullable=True),
        sa.Column("roles", sa.String(length=512), nullable=False),
        sa.Column("rpps", sa.String(length=11), nullable=True),
        sa.Column("password_hash", sa.String(length=512), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("password_changed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_accounts_account")),
        sa.UniqueConstraint("username", name=op.f("uq_security_accounts_account_username")),
        sa.UniqueConstraint("rpps", name=op.f("uq_security_accounts_account_rpps")),
    )
    op.create_table(
        "security_accounts_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_security_accounts_throttle")),
    )
    op.create_table(
        "security_accounts_totp",
        _account_id("security_accounts_totp"),
        sa.Column("secret", sa.LargeBinary(), nullable=True),
        sa.Column("pending_secret", sa.LargeBinary(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_security_accounts_totp")),
    )
    op.create_table(
        "security_accounts_recovery",
        _account_id("security_accounts_recovery"),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "account_id", "code_hash", name=op.f("pk_security_accounts_recovery")
        ),
    )
    op.create_table(
        "security_accounts_passkey",
        sa.Column("credential_id", sa.LargeBinary(length=1023), nullable=False),
        _account_id("security_accounts_passkey"),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_security_accounts_passkey")),
    )
    op.create_index(
        "ix_security_accounts_passkey_account_id", "security_accounts_passkey", ["account_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_security_accounts_passkey_account_id", table_name="security_accounts_passkey")
    op.drop_table("security_accounts_passkey")
    op.drop_table("security_accounts_recovery")
    op.drop_table("security_accounts_totp")
    op.drop_table("security_accounts_throttle")
    op.drop_table("security_accounts_account")
