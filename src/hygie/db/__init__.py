"""Database engines (SQLite by default, PostgreSQL in production) and migrations."""

from hygie.db.engine import make_engine
from hygie.db.migrate import upgrade

__all__ = ["make_engine", "upgrade"]
