"""One :class:`Database` per process: the SQLAlchemy engine and its transaction helpers.

SQLite and PostgreSQL run the same code. On SQLite, writers take the database lock at the
start of their transaction (``BEGIN IMMEDIATE``) and queue on an in-process lock, so two
writers never deadlock on a lock upgrade; readers use WAL snapshots and never wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from hygie.db.driver import driver_error

_WRITE_OPTION = "hygie_write"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """Build the engine for ``url`` (already normalised, see :mod:`hygie.db.urls`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=30,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred-only).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        # On the driver's cursor: every read begins so, and SQLAlchemy's own execution of
        # a statement costs several times SQLite's BEGIN (see hygie.db.driver).
        cursor = conn.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except conn.dialect.loaded_dbapi.Error as error:
            raise driver_error(conn, error) from error
        finally:
            cursor.close()

    return engine


class Database:
    """The engine plus the two ways to use it: a read snapshot or a write transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        # SQLite has one writer at a time anyway; queueing here is cheaper than busy-waiting.
        self._write_lock: threading.Lock | None = (
            threading.Lock() if self.dialect == "sqlite" else None
        )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        if self._write_lock is None:
            with self._writer.begin() as conn:
                yield conn
            return
        with self._write_lock, self._writer.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
