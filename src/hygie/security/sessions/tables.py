"""Tables of hygie.security.sessions (migration 0008)."""

from __future__ import annotations

from hygie.db.schema import metadata  # noqa: F401
