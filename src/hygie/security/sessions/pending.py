"""Server-side state of a ceremony in progress, kept a few minutes and taken at most once.

A WebAuthn challenge or an OpenID Connect state must never be trusted from the browser and
must not be replayable: :meth:`PendingStore.take` deletes the row it returns, in the same
transaction, so a second take of the same key finds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import delete

from hygie.db.engine import Database
from hygie.security.sessions.tables import security_sessions_pending as pending


class PendingStore:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def put(self, purpose: str, key: str, payload: bytes, *, ttl: int) -> None:
        """Store ``payload`` under (purpose, key), replacing an earlier one."""
        now = int(self._clock())
        with self._db.write() as conn:
            conn.execute(delete(pending).where(pending.c.expires_at < now))
            conn.execute(delete(pending).where(pending.c.purpose == purpose, pending.c.key == key))
            conn.execute(
                pending.insert().values(
                    purpose=purpose, key=key, payload=payload, expires_at=now + ttl
                )
            )

    def take(self, purpose: str, key: str) -> bytes | None:
        """The payload if present and unexpired; it is removed either way."""
        with self._db.write() as conn:
            row = conn.execute(
                delete(pending)
                .where(pending.c.purpose == purpose, pending.c.key == key)
                .returning(pending.c.payload, pending.c.expires_at)
            ).first()
        if row is None or row.expires_at < int(self._clock()):
            return None
        return bytes(row.payload)
