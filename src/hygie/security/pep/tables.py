"""Tables of hygie.security.pep (migration 0011)."""

from __future__ import annotations

from hygie.db.schema import metadata  # noqa: F401
