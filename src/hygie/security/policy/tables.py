"""Tables of hygie.security.policy (migration 0010).

- ``security_policy_break_glass``: one row per break-the-glass opening, never updated; a
  grant is active while ``expires_at`` is in the future.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from hygie.db.schema import metadata

security_policy_break_glass = Table(
    "security_policy_break_glass",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("actor_ref", String(128), nullable=False),  # "Practitioner/pr1"
    Column("account_id", String(128), nullable=False),
    Column("patient_ref", String(128), nullable=False),
    Column("reason", String(1000), nullable=False),
    # Seconds since the Unix epoch.
    Column("opened_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_security_policy_break_glass_lookup", "actor_ref", "patient_ref", "expires_at"),
)
