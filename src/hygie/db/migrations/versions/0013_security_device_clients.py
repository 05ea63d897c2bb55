"""Security oauth: device clients, bound to a FHIR Device, with their posture

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns: SQLite adds them in place, no table rebuild.
    op.add_column("security_oauth_client", sa.Column("device_ref", sa.String(128), nullable=True))
    op.add_column("security_oauth_client", sa.Column("posture", sa.String(16), nullable=True))
    op.add_column("security_oauth_client", sa.Column("posture_at", sa.BigInteger(), nullable=True))
    op.create_index(
        op.f("ix_security_oauth_client_device_ref"), "security_oauth_client", ["device_ref"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_security_oauth_client_device_ref"), table_name="security_oauth_client")
    # SQLite drops columns by rebuilding the table; batch mode does that on both engines.
    with op.batch_alter_table("security_oauth_client") as batch:
        batch.drop_column("posture_at")
        batch.drop_column("posture")
        batch.drop_column("device_ref")
