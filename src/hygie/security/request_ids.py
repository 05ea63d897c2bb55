"""Request ids: unique in this process and, by a random prefix drawn once, across processes.

They correlate a request's log lines and are not secret, so no per-request system call
(``uuid4`` reads ``os.urandom`` on every call, which hands the GIL to the audit writer and
waits to get it back).
"""

from __future__ import annotations

import itertools
import secrets

_PREFIX = secrets.token_hex(8)
_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_counter):016x}"
