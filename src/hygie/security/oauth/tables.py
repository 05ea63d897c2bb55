"""Tables of hygie.security.oauth (migration 0009)."""

from __future__ import annotations

from hygie.db.schema import metadata  # noqa: F401
