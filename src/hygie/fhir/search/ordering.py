"""``_sort`` as SQL, and the keyset condition "after (or before) this row" for paging.

A parameter with several values sorts on its smallest value ascending and on its largest
descending (search.html 3.1.1.5.4 leaves it to the server); resources without a value
sort last either way. ``seq`` ends every ordering, so that the order is total and a
cursor names exactly one position.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    FromClause,
    UnaryExpression,
    and_,
    false,
    func,
    or_,
    select,
)

from hygie.db.schema import INDEX_TABLES
from hygie.fhir.search.query import SortKey


@dataclass(frozen=True)
class OrderColumn:
    column: ColumnElement[object]
    descending: bool
    nullable: bool  # sort keys may be missing (NULL, last); seq never is


def sort_value(res: FromClause, resource_type: str, key: SortKey) -> ColumnElement[object]:
    """The value a resource sorts on for ``key`` (a correlated scalar subquery for params)."""
    code = key.param.code
    if code == "_id":
        return res.c.id
    if code == "_lastUpdated":
        return res.c.last_updated
    kind = key.param.type
    t = INDEX_TABLES[kind]
    column: ColumnElement[object]
    if kind in ("string", "uri"):
        column = t.c.value
    elif kind == "token":
        column = t.c.code
    elif kind == "reference":
        column = func.coalesce(t.c.url, t.c.target_type + "/" + t.c.target_id)
    else:  # date, number, quantity: the range end that sorts first in this direction
        column = t.c.high if key.descending else t.c.low
    aggregate = func.max(column) if key.descending else func.min(column)
    return (
        select(aggregate)
        .where(
            t.c.resource_seq == res.c.seq,
            t.c.resource_type == resource_type,
            t.c.param == code,
        )
        .scalar_subquery()
    )


def order_by(columns: list[OrderColumn], forward: bool) -> list[UnaryExpression[object]]:
    """ORDER BY for reading forward, or backward (every direction and NULL place flipped)."""
    clauses = []
    for c in columns:
        ascending = c.descending != forward
        clause = c.column.asc() if ascending else c.column.desc()
        if c.nullable:
            clause = clause.nulls_last() if forward else clause.nulls_first()
        clauses.append(clause)
    return clauses


def after(columns: list[OrderColumn], boundary: list[object], forward: bool) -> ColumnElement[bool]:
    """Rows strictly after ``boundary`` in the order ``order_by(columns, forward)`` gives.

    The row-value comparison spelled out, (k1 > b1) OR (k1 = b1 AND k2 > b2) ..., because
    each column has its own direction and NULLs (missing values) sort last.
    """
    alternatives = []
    equal_so_far: list[ColumnElement[bool]] = []
    for c, value in zip(columns, boundary, strict=True):
        descending = c.descending == forward
        nulls_last = forward
        alternatives.append(and_(*equal_so_far, _strictly_after(c, value, descending, nulls_last)))
        equal_so_far.append(c.column.is_(None) if value is None else c.column == value)
    return or_(*alternatives)


def _strictly_after(
    c: OrderColumn, value: object, descending: bool, nulls_last: bool
) -> ColumnElement[bool]:
    if value is None:  # NULLs sit together at one end
        return false() if nulls_last else c.column.is_not(None)
    beyond = c.column < value if descending else c.column > value
    if c.nullable and nulls_last:
        return or_(beyond, c.column.is_(None))
    return beyond
