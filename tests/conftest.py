"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, created and dropped per test.

Store tests take ``database`` and run once per backend. PostgreSQL is reached at
HYGIE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); the
fixture creates a uniquely named database and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.urls import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "HYGIE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"test data missing: {SHARED_DATA} (the team's shared/data)"
    return SHARED_DATA


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL for the backend named by the test's parameter."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'hygie.sqlite3'}"
        return
    name = f"hygie_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_database_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield normalize_database_url(f"{base}/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated :class:`Database`; parametrize with ``backends`` to run on both engines."""
    db = Database(make_engine(database_url))
    upgrade(db.engine)
    try:
        yield db
    finally:
        db.dispose()


backends = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
