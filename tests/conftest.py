"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, created and dropped per test.

Store tests take ``database`` and run once per backend; see hygie.db.scratch for where
PostgreSQL is reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"test data missing: {SHARED_DATA} (the team's shared/data)"
    return SHARED_DATA


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL for the backend named by the test's parameter."""
    with scratch_database_url(getattr(request, "param", "sqlite"), tmp_path) as url:
        yield url


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
