"""FHIR store: resources, history, search index

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 12:17:03.229321
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_history",
        sa.Column(
            "hseq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("hseq", name=op.f("pk_fhir_history")),
        sa.UniqueConstraint(
            "resource_type", "id", "version", name=op.f("uq_fhir_history_resource_type_id_version")
        ),
    )
    with op.batch_alter_table("fhir_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_history_type_updated", ["resource_type", "last_updated"], unique=False
        )
        batch_op.create_index("ix_fhir_history_updated", ["last_updated"], unique=False)

    op.create_table(
        "fhir_idx_date",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("fhir_idx_date", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_date_lookup", ["resource_type", "param", "low", "high"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_date_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_number",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("fhir_idx_number", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_number_lookup", ["resource_type", "param", "low", "high"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_number_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_quantity",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=256), nullable=True),
        sa.Column("code", sa.String(length=128), nullable=True),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("fhir_idx_quantity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_quantity_lookup", ["resource_type", "param", "code", "low"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_quantity_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_reference",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=512), nullable=True),
    )
    with op.batch_alter_table("fhir_idx_reference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_reference_lookup",
            ["resource_type", "param", "target_id", "target_type"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_reference_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_string",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("exact", sa.String(length=256), nullable=False),
    )
    with op.batch_alter_table("fhir_idx_string", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_string_lookup", ["resource_type", "param", "value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_string_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_token",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=256), nullable=True),
        sa.Column("code", sa.String(length=256), nullable=True),
    )
    with op.batch_alter_table("fhir_idx_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_token_lookup", ["resource_type", "param", "code", "system"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_token_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_idx_uri",
        sa.Column("resource_seq", sa.BigInteger(), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("param", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
    )
    with op.batch_alter_table("fhir_idx_uri", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_idx_uri_lookup", ["resource_type", "param", "value"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fhir_idx_uri_resource_seq"), ["resource_seq"], unique=False
        )

    op.create_table(
        "fhir_resource",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_fhir_resource")),
        sa.UniqueConstraint("resource_type", "id", name=op.f("uq_fhir_resource_resource_type_id")),
    )
    with op.batch_alter_table("fhir_resource", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fhir_resource_type_updated", ["resource_type", "last_updated"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fhir_resource", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_resource_type_updated")

    op.drop_table("fhir_resource")
    with op.batch_alter_table("fhir_idx_uri", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_uri_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_uri_lookup")

    op.drop_table("fhir_idx_uri")
    with op.batch_alter_table("fhir_idx_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_token_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_token_lookup")

    op.drop_table("fhir_idx_token")
    with op.batch_alter_table("fhir_idx_string", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_string_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_string_lookup")

    op.drop_table("fhir_idx_string")
    with op.batch_alter_table("fhir_idx_reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_reference_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_reference_lookup")

    op.drop_table("fhir_idx_reference")
    with op.batch_alter_table("fhir_idx_quantity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_quantity_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_quantity_lookup")

    op.drop_table("fhir_idx_quantity")
    with op.batch_alter_table("fhir_idx_number", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_number_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_number_lookup")

    op.drop_table("fhir_idx_number")
    with op.batch_alter_table("fhir_idx_date", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fhir_idx_date_resource_seq"))
        batch_op.drop_index("ix_fhir_idx_date_lookup")

    op.drop_table("fhir_idx_date")
    with op.batch_alter_table("fhir_history", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_history_updated")
        batch_op.drop_index("ix_fhir_history_type_updated")

    op.drop_table("fhir_history")
