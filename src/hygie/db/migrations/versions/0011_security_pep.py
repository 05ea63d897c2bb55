"""Security pep: the consent side tables (blocked actors, masked documents, no emergency)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_pep_blocked",
        sa.Column("consent_ref", sa.String(length=128), nullable=False),
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.Column("actor_ref", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("consent_ref", "actor_ref", name=op.f("pk_security_pep_blocked")),
    )
    op.create_index(
        "ix_security_pep_blocked_patient", "security_pep_blocked", ["patient_ref", "actor_ref"]
    )
    op.create_table(
        "security_pep_masked",
        sa.Column("consent_ref", sa.String(length=128), nullable=False),
        sa.Column("document_ref", sa.String(length=128), nullable=False),
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("consent_ref", "document_ref", name=op.f("pk_security_pep_masked")),
    )
    op.create_index("ix_security_pep_masked_document", "security_pep_masked", ["document_ref"])
    op.create_table(
        "security_pep_no_emergency",
        sa.Column("consent_ref", sa.String(length=128), nullable=False),
        sa.Column("patient_ref", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("consent_ref", name=op.f("pk_security_pep_no_emergency")),
    )
    op.create_index(
        "ix_security_pep_no_emergency_patient", "security_pep_no_emergency", ["patient_ref"]
    )


def downgrade() -> None:
    op.drop_index("ix_security_pep_no_emergency_patient", table_name="security_pep_no_emergency")
    op.drop_table("security_pep_no_emergency")
    op.drop_index("ix_security_pep_masked_document", table_name="security_pep_masked")
    op.drop_table("security_pep_masked")
    op.drop_index("ix_security_pep_blocked_patient", table_name="security_pep_blocked")
    op.drop_table("security_pep_blocked")
