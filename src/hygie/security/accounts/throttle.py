"""Progressive delays against guessing: failure counters per username, source IP and MFA.

After ``free`` failures in a row each new failure doubles the wait before the next try
(1 s, 2 s, 4 s ... up to ``max_delay``); counters are forgotten after ``forget_after``
seconds without a failure. Keys are SHA-256 hashes, so the table never holds a typed
username (people type their password there) and a username that does not exist is
throttled exactly like one that does.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from hygie.security.accounts.tables import security_accounts_throttle as throttle


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free: int = 5
    max_delay: int = 900  # seconds
    forget_after: int = 86_400  # seconds

    def delay(self, failures: int) -> int:
        """Seconds to wait after ``failures`` failures in a row."""
        if failures < self.free:
            return 0
        # Cap the exponent first: 2**failures for a huge count is a big integer for nothing.
        return min(1 << min(failures - self.free, 30), self.max_delay)


def throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def retry_after(conn: Connection, key: str, policy: ThrottlePolicy, now_ms: int) -> int | None:
    """Whole seconds until ``key`` may try again, or None when it may try now."""
    row = conn.execute(
        select(throttle.c.failures, throttle.c.last_failure_ms).where(throttle.c.key == key)
    ).one_or_none()
    return None if row is None else _wait(policy, row.failures, row.last_failure_ms, now_ms)


def reserve(conn: Connection, key: str, policy: ThrottlePolicy, now_ms: int) -> int | None:
    """Count an attempt as a failure before it is checked, unless ``key`` must wait (then the
    seconds to wait). Under a row lock, so that parallel guesses cannot all slip through
    while the counter is low; a success then :func:`clear` s it."""
    failures, last_ms = _lock(conn, key, policy, now_ms)
    wait = _wait(policy, failures, last_ms, now_ms)
    if wait is None:
        _store(conn, key, failures + 1, now_ms)
    return wait


def count_failure(conn: Connection, key: str, policy: ThrottlePolicy, now_ms: int) -> int:
    """Add one failure to ``key``; the new total."""
    failures, _ = _lock(conn, key, policy, now_ms)
    _store(conn, key, failures + 1, now_ms)
    return failures + 1


def failures(conn: Connection, key: str, policy: ThrottlePolicy, now_ms: int) -> int:
    row = conn.execute(
        select(throttle.c.failures, throttle.c.last_failure_ms).where(throttle.c.key == key)
    ).one_or_none()
    return 0 if row is None else _current(policy, row.failures, row.last_failure_ms, now_ms)


def clear(conn: Connection, key: str) -> None:
    conn.execute(throttle.delete().where(throttle.c.key == key))


def _current(policy: ThrottlePolicy, failures: int, last_ms: int, now_ms: int) -> int:
    return failures if now_ms - last_ms < policy.forget_after * 1000 else 0


def _wait(policy: ThrottlePolicy, failures: int, last_ms: int, now_ms: int) -> int | None:
    current = _current(policy, failures, last_ms, now_ms)
    wait_ms = last_ms + policy.delay(current) * 1000 - now_ms
    return math.ceil(wait_ms / 1000) if current and wait_ms > 0 else None


def _lock(conn: Connection, key: str, policy: ThrottlePolicy, now_ms: int) -> tuple[int, int]:
    """The row of ``key`` (created if missing), locked until the transaction ends."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(throttle)
        .values(key=key, failures=0, last_failure_ms=now_ms)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = conn.execute(
        select(throttle.c.failures, throttle.c.last_failure_ms)
        .where(throttle.c.key == key)
        .with_for_update()
    ).one()
    return _current(policy, row.failures, row.last_failure_ms, now_ms), row.last_failure_ms


def _store(conn: Connection, key: str, failures: int, now_ms: int) -> None:
    conn.execute(
        throttle.update()
        .where(throttle.c.key == key)
        .values(failures=failures, last_failure_ms=now_ms)
    )
