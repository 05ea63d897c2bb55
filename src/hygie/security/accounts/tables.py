"""Tables of hygie.security.accounts (migration 0007)."""

from __future__ import annotations

from hygie.db.schema import metadata  # noqa: F401
