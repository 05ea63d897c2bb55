"""Location radio map: survey imports, access points and compact fingerprints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "location_radiomap_import",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fingerprints", sa.Integer(), nullable=False),
        sa.Column("imported_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_location_radiomap_import")),
        sa.UniqueConstraint("sha256", name=op.f("uq_location_radiomap_import_sha256")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "location_radiomap_ap",
        sa.Column("column_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ap_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("column_no", name=op.f("pk_location_radiomap_ap")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_location_radiomap_ap_ap_id")),
    )
    op.create_table(
        "location_radiomap_fingerprint",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("import_seq", sa.BigInteger(), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("aps", sa.LargeBinary(), nullable=False),
        sa.Column("rssi", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_seq"],
            ["location_radiomap_import.seq"],
            name=op.f("fk_location_radiomap_fingerprint_import"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_location_radiomap_fingerprint")),
    )


def downgrade() -> None:
    op.drop_table("location_radiomap_fingerprint")
    op.drop_table("location_radiomap_ap")
    op.drop_table("location_radiomap_import")
