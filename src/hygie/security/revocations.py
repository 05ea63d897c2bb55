"""Process-wide notice that something revocable changed: a token, a grant, a client or an
account. Caches of authentication state remember the notice count they were filled under
and drop an answer read before the latest notice, so a revocation made in this process is
effective at once. Writers call :func:`notify` after their transaction has committed.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_count = 0


def notify() -> None:
    """Something revocable was just changed (and committed) in this process."""
    global _count
    with _lock:
        _count += 1


def count() -> int:
    """How many notices were given so far: read it before reading the state it guards."""
    return _count
