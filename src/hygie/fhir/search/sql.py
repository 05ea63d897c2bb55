"""Search criteria as SQL: one semi-join on an index table per criterion.

Each AND term becomes ``fhir_resource.seq IN (SELECT resource_seq FROM fhir_idx_<type>
WHERE resource_type = ? AND param = ? AND (<value> OR <value> ...))``, so that the lookup
indexes ``(resource_type, param, value...)`` drive the search; values are always bound
parameters. ``_id`` and ``_lastUpdated`` are conditions on ``fhir_resource`` columns;
``:not`` and ``:missing=true`` are ``NOT EXISTS`` anti-joins.

Query plans. One term, the likeliest to be selective, drives the search as an
uncorrelated ``IN``; the others are correlated probes by ``resource_seq``. Both engines
need this: SQLite materialises every uncorrelated ``IN`` list in full (10,000 token
entries cost ~10 ms), and PostgreSQL, planning from statistics that lag behind a bulk
load, joined ``Observation?patient=Patient/x&code=loinc|8867-4`` over 100,000 fresh
Observations by scanning all 19,000 heart rates once per candidate (1 s instead of
0.2 ms). Probes and the resource-type test compare ``resource_type || ''`` so that no
planner can reach for the ``(resource_type, ...)`` indexes instead of the right one.

String prefixes are a range ``value >= 'abc' AND value < 'abd'`` (a B-tree range on both
engines; SQLite's LIKE would not use the index, its columns are not NOCASE) plus an
escaped ``LIKE 'abc%'`` that keeps the result exact under any collation. The range is a
superset of the prefix only under a code-point collation: PostgreSQL databases
should use the C or C.UTF-8 collation, as the test servers do, or the range may miss rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Table,
    and_,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from hygie.db.schema import INDEX_TABLES, fhir_resource
from hygie.fhir.search.query import (
    Criterion,
    QuantityValue,
    RangeValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
    Value,
)

_LIKE_ESCAPE = "\\"


def live(res: FromClause, resource_type: str) -> ColumnElement[bool]:
    """Current, not deleted resources of one type (deleted rows have no index rows either)."""
    return and_(res.c.resource_type == resource_type, res.c.deleted == false())


def match_clause(
    res: FromClause, resource_type: str, criteria: Sequence[Criterion], dialect: str
) -> ColumnElement[bool]:
    """The live resources of ``resource_type`` in ``res`` that meet every criterion.

    The term likeliest to be selective drives the search; the others become correlated
    probes on ``ix_..._resource_seq`` (see the module docstring for why).
    """
    driver = min(criteria, key=_selectivity) if criteria else None
    alive = live(res, resource_type)
    if driver is not None and _is_semi_join(driver):
        # Left to itself SQLite walks every resource of the type through the
        # (resource_type, last_updated) index and tests the IN list on each row; hiding
        # resource_type from the planner makes it start from the driving IN list instead.
        alive = and_(res.c.resource_type.concat("") == resource_type, res.c.deleted == false())
    return and_(
        alive,
        *(
            criterion_clause(res, resource_type, c, dialect, correlated=c is not driver)
            for c in criteria
        ),
    )


def _is_semi_join(c: Criterion) -> bool:
    """Whether ``c`` is a positive lookup in an index table (``seq IN (SELECT ...)``)."""
    return (
        c.param.code not in ("_id", "_lastUpdated")
        and c.missing is not True
        and c.modifier != "not"
    )


def _selectivity(c: Criterion) -> int:
    """A guess at how few rows a criterion matches: lower drives the query on SQLite."""
    if c.param.code == "_id":
        return 0
    if c.missing is not None or c.modifier == "not":
        return 9
    kind = c.param.type
    if kind == "reference" or (kind == "token" and c.param.code.endswith("identifier")):
        return 1
    if kind == "uri" or c.modifier == "exact":
        return 2
    if kind == "string" and c.modifier is None:
        return 3
    if kind == "token" and any(isinstance(v, TokenValue) and v.code for v in c.values):
        return 4
    return 6 if c.values and all(isinstance(v, TokenValue) for v in c.values) else 5


def criterion_clause(
    res: FromClause, resource_type: str, c: Criterion, dialect: str, *, correlated: bool = False
) -> ColumnElement[bool]:
    """The condition one criterion puts on ``res`` (fhir_resource or an alias of it)."""
    code = c.param.code
    if code == "_id":
        ids = [v.code for v in c.values if isinstance(v, TokenValue) and v.code is not None]
        return res.c.id.not_in(ids) if c.modifier == "not" else res.c.id.in_(ids)
    if code == "_lastUpdated":
        column = res.c.last_updated
        return or_(*(_range(v, column, column) for v in c.values if isinstance(v, RangeValue)))
    table = INDEX_TABLES[c.param.type]
    # Anti-joins (:missing=true, :not) and SQLite's non-driving terms look up the outer row.
    probe = c.missing is True or c.modifier == "not" or correlated
    rows = select(table.c.resource_seq).where(table.c.param == code)
    if probe:
        rows = _probe(rows, table, res, resource_type)
    else:
        rows = rows.where(table.c.resource_type == resource_type)
    if c.missing is True:
        return ~exists(rows)
    if c.missing is False:
        return res.c.seq.in_(rows)
    if c.chain is not None:
        return res.c.seq.in_(rows.where(_chain(table, c, dialect)))
    matching = rows.where(or_(*(_value(table, v, c.modifier) for v in c.values)))
    if c.modifier == "not":  # an anti-join: NOT EXISTS, which both engines plan as one
        return ~exists(matching)
    return res.c.seq.in_(matching)


def _probe(
    rows: Select[tuple[int]], table: Table, res: FromClause, resource_type: str
) -> Select[tuple[int]]:
    """``rows`` restricted to the outer resource: a lookup by ``resource_seq``.

    Without (or with stale) statistics both planners may prefer the index with the most
    equality columns, the ``(resource_type, param, value...)`` lookup index, and scan
    every row with that value once per outer resource. Comparing ``resource_type || ''``
    rather than the bare column keeps that index out of reach.
    """
    return rows.where(
        table.c.resource_seq == res.c.seq, table.c.resource_type.concat("") == resource_type
    )


def _chain(refs: Table, c: Criterion, dialect: str) -> ColumnElement[bool]:
    assert c.chain is not None
    alternatives = []
    for target_type, chained in c.chain.targets:
        target = fhir_resource.alias("chained")
        ids = select(target.c.id).where(match_clause(target, target_type, [chained], dialect))
        alternatives.append(and_(refs.c.target_type == target_type, refs.c.target_id.in_(ids)))
    return or_(*alternatives)


def _value(t: Table, v: Value, modifier: str | None) -> ColumnElement[bool]:
    if isinstance(v, StringValue):
        if modifier == "exact":
            return t.c.exact == v.text
        if modifier == "contains":
            return t.c.value.like(f"%{escape_like(v.text)}%", escape=_LIKE_ESCAPE)
        return starts_with(t.c.value, v.text)
    if isinstance(v, TokenValue):
        conditions = []
        if v.code is not None:
            conditions.append(t.c.code == v.code)
        if v.system is not None:
            conditions.append(t.c.system == v.system)
        elif v.no_system:
            conditions.append(t.c.system.is_(None))
        return and_(true(), *conditions)
    if isinstance(v, ReferenceValue):
        if v.url is not None:
            return t.c.url == v.url
        conditions = [t.c.target_id == v.target_id]
        if v.target_type is not None:
            conditions.append(t.c.target_type == v.target_type)
        return and_(*conditions)
    if isinstance(v, RangeValue):
        return _range(v, t.c.low, t.c.high)
    if isinstance(v, QuantityValue):
        conditions = [_range(v.number, t.c.low, t.c.high)]
        if v.code is not None:
            conditions.append(t.c.code == v.code)
        if v.system is not None:
            conditions.append(t.c.system == v.system)
        return and_(*conditions)
    return _uri(t, v, modifier)


def _uri(t: Table, v: UriValue, modifier: str | None) -> ColumnElement[bool]:
    if modifier == "below":
        return starts_with(t.c.value, v.uri)
    if modifier == "above":  # the stored URI is the value or one of its parent paths
        parents = [v.uri[: i + 1] for i, char in enumerate(v.uri) if char == "/"]
        return t.c.value.in_([v.uri, *parents, *(p.rstrip("/") for p in parents)])
    return t.c.value == v.uri


def _range(v: RangeValue, low: ColumnElement[int], high: ColumnElement[int]) -> ColumnElement[bool]:
    """search.html 3.1.1.4: the parameter's range against the stored inclusive [low, high]."""
    within = and_(low >= v.low, high <= v.high)
    if v.prefix == "eq":
        return within
    if v.prefix == "ne":
        return not_(within)
    if v.prefix == "ap":
        if v.point is not None:  # numbers: within the margin (10%) of the value itself
            return and_(low <= v.point + v.margin, high >= v.point - v.margin)
        return and_(low <= v.high + v.margin, high >= v.low - v.margin)
    if v.prefix == "sa":
        return low > v.high
    if v.prefix == "eb":
        return high < v.low
    if v.point is not None:  # numbers: lt/gt/le/ge compare against the exact value
        return {
            "gt": high > v.point,
            "lt": low < v.point,
            "ge": high >= v.point,
            "le": low <= v.point,
        }[v.prefix]
    above, below = high > v.high, low < v.low
    return {"gt": above, "lt": below, "ge": or_(above, within), "le": or_(below, within)}[v.prefix]


def escape_like(text: str) -> str:
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def starts_with(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    like = column.like(f"{escape_like(prefix)}%", escape=_LIKE_ESCAPE)
    following = ord(prefix[-1]) + 1
    if following > 0x10FFFF:
        return like
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters: skip them
        following = 0xE000
    return and_(column >= prefix, column < prefix[:-1] + chr(following), like)
