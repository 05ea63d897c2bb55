from __future__ import annotations

from sqlalchemy import inspect

from hygie.db.engine import Database
from hygie.db.migrate import current_revision, head_revision, upgrade
from hygie.db.schema import metadata
from tests.conftest import backends


@backends
def test_migrations_create_every_table_and_are_idempotent(database: Database) -> None:
    upgrade(database.engine)  # a second run changes nothing and does not fail
    assert current_revision(database.engine) == head_revision(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert set(metadata.tables) <= tables
