"""Throw-away databases for tests and benchmarks: a fresh SQLite file or PostgreSQL database.

PostgreSQL is reached through HYGIE_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres): a uniquely named database is created
there and dropped, connections and all, when the block ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from hygie.db.urls import normalize_database_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database_url(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'scratch-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}: sqlite or postgresql")
    admin_url = os.environ.get("HYGIE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    name = f"hygie_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalize_database_url(f"{admin_url.rsplit('/', 1)[0]}/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
