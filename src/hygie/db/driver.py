"""Statements compiled once and run on the driver's cursor, for the hottest paths.

SQLAlchemy's execution of a statement (the compiled-cache lookup, parameter and result
processing row by row) costs several times the database's own work on a small query:
reading 20 resources by ``seq`` took ~190 µs through ``Connection.execute`` on SQLite,
~30 µs in sqlite3 itself. A :class:`DriverStatement` is compiled by SQLAlchemy once for a
dialect (its paramstyle and PostgreSQL's bind casts included) and run on the DBAPI cursor
of the SQLAlchemy connection, inside its transaction. Only for statements whose parameters
and columns need no type processing by SQLAlchemy: integers, strings, bytes, booleans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ClauseElement, Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler

Params = tuple[object, ...] | Mapping[str, object]


class DriverStatement:
    """``statement`` compiled for ``dialect``; its parameters are passed by name, those that
    had a value in ``statement`` (a LIMIT) default to it."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        # Positional drivers (SQLite's "?") take a tuple in this order, others the mapping.
        self.order = tuple(compiled.positiontup or ()) if compiled.positional else None

    def call(self, params: Mapping[str, object]) -> tuple[str, Params]:
        """The arguments of ``cursor.execute`` for these parameters."""
        if self.defaults:
            params = {**self.defaults, **params}
        if self.order is None:
            return self.sql, params
        return self.sql, tuple(params[name] for name in self.order)

    def call_many(
        self, rows: Sequence[Mapping[str, object]]
    ) -> tuple[str, list[tuple[object, ...]] | list[Mapping[str, object]]]:
        """The arguments of ``cursor.executemany`` for these rows of parameters."""
        if self.order is None:
            return self.sql, list(rows)
        order = self.order
        return self.sql, [tuple(row[name] for name in order) for row in rows]

    def rows(self, conn: Connection, params: Mapping[str, object]) -> Sequence[Any]:
        """Run the statement in ``conn``'s transaction; its rows as the driver gives them."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(*self.call(params))
            return cursor.fetchall()
        except conn.dialect.loaded_dbapi.Error as error:
            raise driver_error(conn, error) from error
        finally:
            cursor.close()


def driver_error(conn: Connection, error: Exception) -> StatementError:
    """A driver error raised as SQLAlchemy raises them (IntegrityError, OperationalError...),
    its parameters left out of the message: they may be health data or audit leaves."""
    return DBAPIError.instance(
        None,
        None,
        error,
        conn.dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=conn.dialect,
    )
