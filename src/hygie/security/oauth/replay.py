"""A replay store for one-time JWT ids (DPoP proofs, client assertions), in a table.

An id is remembered until the token carrying it could no longer be accepted anyway, so the
table stays small; expired rows are purged by the writers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from hygie.db.engine import Database
from hygie.security.oauth.tables import security_oauth_seen


class ReplayStore:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def first_use(self, kind: str, subject: str, jti: str, *, keep_until: int) -> bool:
        """Record ``jti`` for ``subject``; False when it was already seen (a replay)."""
        key = hashlib.sha256(f"{kind}\0{subject}\0{jti}".encode()).hexdigest()
        try:
            with self._db.write() as conn:
                conn.execute(
                    delete(security_oauth_seen).where(
                        security_oauth_seen.c.expires_at < int(self._clock())
                    )
                )
                conn.execute(insert(security_oauth_seen).values(key=key, expires_at=keep_until))
        except IntegrityError:
            return False
        return True
