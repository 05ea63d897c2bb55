"""Location tracking: tag bindings, position stream, geofences and their events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "location_asset",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("tag_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("home_zone_id", sa.String(length=64), nullable=True),
        sa.Column("in_use", sa.Boolean(), nullable=False),
        sa.Column("t_us", sa.BigInteger(), nullable=True),
        sa.Column("building", sa.String(length=32), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("x", sa.Float(), nullable=True),
        sa.Column("y", sa.Float(), nullable=True),
        sa.Column("uncertainty_m", sa.Float(), nullable=True),
        sa.Column("from_scan", sa.Boolean(), nullable=True),
        sa.Column("zone_ids", sa.Text(), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_location_asset")),
        sa.UniqueConstraint("tag_id", name=op.f("uq_location_asset_tag_id")),
        sa.UniqueConstraint("device_id", name=op.f("uq_location_asset_device_id")),
    )
    op.create_index("ix_location_asset_kind", "location_asset", ["kind"])

    op.create_table(
        "location_position",
        sa.Column("asset_seq", sa.Integer(), nullable=False),
        sa.Column("t_us", sa.BigInteger(), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("uncertainty_m", sa.Float(), nullable=False),
        sa.Column("from_scan", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_location_position_asset_time", "location_position", ["asset_seq", "t_us"])

    op.create_table(
        "location_zone",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("polygon", sa.Text(), nullable=False),
        sa.Column("margin_m", sa.Float(), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_zone")),
    )

    op.create_table(
        "location_zone_event",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("t_us", sa.BigInteger(), nullable=False),
        sa.Column("zone_id", sa.String(length=64), nullable=False),
        sa.Column("asset_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_location_zone_event")),
    )
    op.create_index("ix_location_zone_event_zone_time", "location_zone_event", ["zone_id", "t_us"])
    op.create_index(
        "ix_location_zone_event_asset_time", "location_zone_event", ["asset_seq", "t_us"]
    )


def downgrade() -> None:
    op.drop_table("location_zone_event")
    op.drop_table("location_zone")
    op.drop_table("location_position")
    op.drop_table("location_asset")
