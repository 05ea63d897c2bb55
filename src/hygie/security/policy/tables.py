"""Tables of hygie.security.policy (migration 0010)."""

from __future__ import annotations

from hygie.db.schema import metadata  # noqa: F401
