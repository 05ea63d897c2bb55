"""Alembic environment: runs against the engine handed over by hygie.db.migrate."""

from __future__ import annotations

from alembic import context

# Domain modules own their tables on the same MetaData; import them so it lists them all.
import hygie.location.radiomap.tables
import hygie.location.tracking.tables
import hygie.location.venue.tables
import hygie.record.tables
import hygie.security.accounts.tables
import hygie.security.audit.tables
import hygie.security.crypto.tables
import hygie.security.oauth.tables
import hygie.security.pep.tables
import hygie.security.policy.tables
import hygie.security.sessions.tables  # noqa: F401
from hygie.db.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
