"""Run a :class:`SearchQuery`: count, one keyset page of matches, then the includes.

Counting every match of a broad search costs as much as reading them all, so the default
``_total`` is ``estimate``: the exact total when there are at most :data:`ESTIMATE_LIMIT`
matches, no total beyond (``_total=accurate`` always counts, ``none`` never does).

The page query (``LIMIT count + 1`` tells whether another page follows) reads the
resources themselves in insertion order; with ``_sort`` it selects only ``seq`` and the
sort keys and the resources are read by ``seq`` afterwards, so sorting never carries JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Row,
    Select,
    TextClause,
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.type_api import TypeEngine

from hygie.db.driver import DriverStatement
from hygie.db.schema import fhir_resource
from hygie.fhir.access import Narrowing
from hygie.fhir.errors import Issue, bad_request
from hygie.fhir.model import StoredResource
from hygie.fhir.search.includes import included
from hygie.fhir.search.ordering import OrderColumn, after, order_by, sort_value
from hygie.fhir.search.paging import encode_cursor
from hygie.fhir.search.params import parse_search
from hygie.fhir.search.query import Cursor, SearchQuery, Total
from hygie.fhir.search.rows import RESOURCE_COLUMNS, to_stored
from hygie.fhir.search.sql import Match, match_clause
from hygie.fhir.searchparams import COLUMN_PARAMS, SearchParamRegistry

ESTIMATE_LIMIT = 1000  # _total=estimate (the default) counts this far, then gives up

Where = ColumnElement[bool] | TextClause  # the matches' condition, as sql.match_clause writes it


@dataclass
class _Condition:
    """What the matches meet: the search's criteria and the caller's restriction, if any.
    Their SQLAlchemy clause is only built when a query needs it (see _first_seqs)."""

    match: Match
    restriction: ColumnElement[bool] | None

    @cached_property
    def where(self) -> Where:
        clause = self.match.clause()
        return clause if self.restriction is None else and_(clause, self.restriction)


@dataclass
class SearchPage:
    matches: list[StoredResource]
    includes: list[StoredResource]
    total: int | None
    next_cursor: str | None
    previous_cursor: str | None
    warnings: list[Issue] = field(default_factory=list)


def execute_search(
    conn: Connection,
    query: SearchQuery,
    registry: SearchParamRegistry,
    *,
    narrowing: Narrowing | None = None,
) -> SearchPage:
    """One page of ``query``'s matches, with their includes, read in ``conn``'s snapshot.

    ``narrowing`` (the caller's access restriction) is ANDed into the matches, the totals
    and the ``_revinclude`` queries alike.
    """
    res = fhir_resource
    condition = _Condition(
        match_clause(res, query.resource_type, query.criteria),
        narrowing(res, query.resource_type) if narrowing is not None else None,
    )
    if query.summary == "count" or query.count == 0:
        mode: Total = "accurate" if query.summary == "count" else query.total
        return SearchPage([], [], _total(conn, condition.where, mode), None, None)

    if not query.sort and query.cursor is None and query.total != "none":
        return _first_page_with_total(conn, query, condition, narrowing)
    where = condition.where
    # In insertion order (no _sort) the page query reads the resources at once; with sort
    # keys it selects seq and the keys only, and the page's resources are read after.
    carried = RESOURCE_COLUMNS[1:] if not query.sort else ()
    inner = (
        select(
            res.c.seq.label("seq"),
            *carried,
            *(
                sort_value(res, query.resource_type, key).label(f"k{i}")
                for i, key in enumerate(query.sort)
            ),
        )
        .where(where)
        .subquery("matched")
    )
    columns = [
        OrderColumn(inner.c[f"k{i}"], key.descending, nullable=key.param.code not in COLUMN_PARAMS)
        for i, key in enumerate(query.sort)
    ]
    columns.append(OrderColumn(inner.c.seq, descending=False, nullable=False))
    cursor = query.cursor
    forward = cursor is None or cursor.forward
    page = select(*inner.c).order_by(*order_by(columns, forward)).limit(query.count + 1)
    if cursor is not None:
        page = page.where(after(columns, [*cursor.keys, cursor.seq], forward))
    rows = list(conn.execute(page).all())
    more = len(rows) > query.count
    rows = rows[: query.count]
    if not forward:
        rows.reverse()

    if query.total != "none" and cursor is None and not more:
        total: int | None = len(rows)  # the first page holds every match: nothing to count
    else:
        total = _total(conn, where, query.total)
    matches = [to_stored(r) for r in rows] if carried else _load(conn, [r.seq for r in rows])
    # Reading backward, the page we came from follows this one; reading forward from a
    # cursor, the page we came from precedes it.
    has_next = more if forward else True
    has_previous = (cursor is not None) if forward else more
    next_cursor = _cursor(rows[-1], query, forward=True) if rows and has_next else None
    previous_cursor = _cursor(rows[0], query, forward=False) if rows and has_previous else None
    extra, warnings = included(conn, query, matches, narrowing)
    return SearchPage(matches, extra, total, next_cursor, previous_cursor, warnings)


def _first_seqs_query(where: Where) -> Select[Any]:
    """Up to ESTIMATE_LIMIT + 1 matching seqs, in insertion order."""
    res = fhir_resource
    return select(res.c.seq).where(where).order_by(res.c.seq).limit(ESTIMATE_LIMIT + 1)


@lru_cache(maxsize=512)
def _first_seqs_statement(
    dialect: Dialect, sql: str, types: tuple[TypeEngine[Any], ...]
) -> DriverStatement:
    return DriverStatement(_first_seqs_query(Match(sql, {}, types).clause()), dialect)


def _first_seqs(conn: Connection, condition: _Condition) -> list[int]:
    """:func:`_first_seqs_query`. The commonest search, a match not restricted to what the
    caller may see, runs on the driver, compiled once per query shape."""
    if condition.restriction is not None:
        return list(conn.execute(_first_seqs_query(condition.where)).scalars())
    match = condition.match
    statement = _first_seqs_statement(conn.dialect, match.sql, match.types)
    return [row[0] for row in statement.rows(conn, match.values)]


def _first_page_with_total(
    conn: Connection, query: SearchQuery, condition: _Condition, narrowing: Narrowing | None
) -> SearchPage:
    """The first page in insertion order and the total, from one pass over the matches.

    Up to ESTIMATE_LIMIT + 1 matching seqs are read in order: the first ``count`` make the
    page, their number is the total (or tells that it is beyond the estimate), and only
    the page's resources are then read.
    """
    seqs = _first_seqs(conn, condition)
    total: int | None = len(seqs)
    if len(seqs) > ESTIMATE_LIMIT:
        accurate = query.total == "accurate"
        total = _total(conn, condition.where, "accurate") if accurate else None
    page = seqs[: query.count]
    matches = _load(conn, page)
    next_cursor = None
    if len(seqs) > query.count and page:
        next_cursor = encode_cursor(Cursor((), page[-1], True), query.sort)
    extra, warnings = included(conn, query, matches, narrowing)
    return SearchPage(matches, extra, total, next_cursor, None, warnings)


def _total(conn: Connection, where: Where, mode: Total) -> int | None:
    """The number of matches: exact, or for ``estimate`` exact up to ESTIMATE_LIMIT, else None."""
    if mode == "none":
        return None
    matching = select(fhir_resource.c.seq).where(where)
    if mode == "estimate":
        matching = matching.limit(ESTIMATE_LIMIT + 1)
    count = conn.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    return None if count > ESTIMATE_LIMIT and mode == "estimate" else int(count)


def _cursor(row: Row[tuple[object, ...]], query: SearchQuery, *, forward: bool) -> str:
    mapping = row._mapping
    keys = tuple(_json_key(mapping[f"k{i}"]) for i in range(len(query.sort)))
    return encode_cursor(Cursor(keys, int(mapping["seq"]), forward), query.sort)


def _json_key(value: object) -> str | int | float | None:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, Decimal):  # some drivers' aggregates
        return float(value)
    raise TypeError(f"unexpected sort key value {value!r}")


@lru_cache(maxsize=256)
def _load_statement(dialect: Dialect, size: int) -> DriverStatement:
    wanted: list[BindParameter[int]] = [bindparam(f"s{n}") for n in range(size)]
    return DriverStatement(
        select(*RESOURCE_COLUMNS).where(fhir_resource.c.seq.in_(wanted)), dialect
    )


def _load(conn: Connection, seqs: list[int]) -> list[StoredResource]:
    """The resources of ``seqs``, in that order (a page: run on the driver, see _first_seqs)."""
    if not seqs:
        return []
    rows = _load_statement(conn.dialect, len(seqs)).rows(
        conn, {f"s{n}": seq for n, seq in enumerate(seqs)}
    )
    by_seq = {row[0]: to_stored(row) for row in rows}
    return [by_seq[s] for s in seqs if s in by_seq]


def find_matches(
    conn: Connection,
    resource_type: str,
    criteria: str,
    registry: SearchParamRegistry,
    *,
    limit: int = 2,
    narrowing: Narrowing | None = None,
) -> list[StoredResource]:
    """The resources a conditional create/update/delete's criteria select (at most ``limit``)."""
    text = criteria.strip()
    text = text.removeprefix(f"{resource_type}?").removeprefix("?")
    if not text:
        raise bad_request(f"empty search criteria for a conditional {resource_type} operation")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise bad_request(f"{criteria!r} is not a search query string (name=value&...)") from None
    query = parse_search(
        resource_type, pairs, registry, strict=True, default_count=limit, max_count=limit
    )
    if not query.criteria:
        raise bad_request(
            f"{criteria!r} has no search parameter: a conditional operation needs criteria"
        )
    query = replace(
        query, count=limit, total="none", summary=None, cursor=None, includes=(), revincludes=()
    )
    return execute_search(conn, query, registry, narrowing=narrowing).matches
