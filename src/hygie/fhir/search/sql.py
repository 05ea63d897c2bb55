"""Search criteria as SQL: one semi-join on an index table per criterion.

Each AND term becomes ``fhir_resource.seq IN (SELECT resource_seq FROM fhir_idx_<type>
WHERE resource_type = ? AND param = ? AND (<value> OR <value> ...))``, so that the lookup
indexes ``(resource_type, param, value...)`` drive the search; values are always bound
parameters. ``_id`` and ``_lastUpdated`` are conditions on ``fhir_resource`` columns;
``:not`` and ``:missing=true`` are ``NOT EXISTS`` anti-joins.

The criteria are written as SQL text with typed bound parameters named in order (b0, b1,
...), not as SQLAlchemy expressions: building those cost more than running the query
(~0.5 ms for ``Observation?patient=..&code=..``), while the text of one query shape is the
same whatever its values, so SQLAlchemy compiles it once and reuses it from its cache.

Query plans. One term, the likeliest to be selective, drives the search as an
uncorrelated ``IN``; the others are correlated probes by ``resource_seq``: the positive
ones ``EXISTS`` probes of the driving index rows inside that ``IN`` (so only resources
that match every term are read from ``fhir_resource``: a patient's 100 Observations are
not all fetched to keep their 20 heart rates), the anti-joins and the conditions on
``fhir_resource`` columns probes of the resource itself. Both index-table indexes are
covering (``ix_*_lookup`` by value, ``ix_*_probe`` by resource_seq and param): a term
reads no table row. Both engines need the driving/probe split: SQLite materialises every
uncorrelated ``IN`` list in full (10,000 token entries cost ~10 ms), and PostgreSQL,
planning from statistics that lag behind a bulk load, joined
``Observation?patient=Patient/x&code=loinc|8867-4`` over 100,000 fresh Observations by
scanning all 19,000 heart rates once per candidate (1 s instead of 0.2 ms). Probes and
the resource-type test compare ``resource_type || ''`` so that no planner can reach for
the ``(resource_type, ...)`` indexes instead of the right one.

String prefixes are a range ``value >= 'abc' AND value < 'abd'`` (a B-tree range on both
engines; SQLite's LIKE would not use the index, its columns are not NOCASE) plus an
escaped ``LIKE 'abc%'`` that keeps the result exact under any collation. The range is a
superset of the prefix only under a code-point collation: PostgreSQL databases
should use the C or C.UTF-8 collation, as the test servers do, or the range may miss rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    FromClause,
    Table,
    TextClause,
    and_,
    bindparam,
    false,
    text,
)
from sqlalchemy.sql.selectable import NamedFromClause
from sqlalchemy.sql.type_api import TypeEngine

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
_NONE, _ALL = "1 = 0", "1 = 1"
# The driving lookup's index rows, which the other lookups probe by resource_seq.
_DRIVER = "driving"
_DRIVER_SEQ = f"{_DRIVER}.resource_seq"


def live(res: FromClause, resource_type: str) -> ColumnElement[bool]:
    """Current, not deleted resources of one type (deleted rows have no index rows either)."""
    return and_(res.c.resource_type == resource_type, res.c.deleted == false())


class _Binds:
    """The bound values of one SQL text, named b0, b1... in the order the text uses them."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.types: list[TypeEngine[Any]] = []

    def __call__(self, value: object, column: Column[Any]) -> str:
        """The placeholder of ``value``, typed as ``column`` (PostgreSQL casts it so)."""
        name = f"b{len(self.types)}"
        self.values[name] = value
        self.types.append(column.type)
        return f":{name}"


@dataclass(frozen=True)
class Match:
    """A search's condition as SQL text. The same text always names the same parameters,
    of the same ``types``: its compiled form can be kept and reused with other values."""

    sql: str
    values: dict[str, object]
    types: tuple[TypeEngine[Any], ...]

    def clause(self) -> TextClause:
        """The condition as a SQLAlchemy clause, to combine with others (without values:
        to compile it once for its shape)."""
        binds = (
            bindparam(f"b{n}", self.values.get(f"b{n}"), type_=type_)
            for n, type_ in enumerate(self.types)
        )
        return text(self.sql).bindparams(*binds)


def match_clause(res: NamedFromClause, resource_type: str, criteria: Sequence[Criterion]) -> Match:
    """The live resources of ``resource_type`` in ``res`` that meet every criterion.

    The term likeliest to be selective drives the search; the others become correlated
    probes on ``ix_..._probe`` (see the module docstring for why).
    """
    binds = _Binds()
    sql = _match(res.name, resource_type, criteria, binds)
    return Match(sql, binds.values, tuple(binds.types))


def _match(res: str, resource_type: str, criteria: Sequence[Criterion], b: _Binds) -> str:
    driver = min(criteria, key=_selectivity) if criteria else None
    r = fhir_resource.c
    kind = b(resource_type, r.resource_type)
    if driver is None or not _is_semi_join(driver):
        terms = [f"{res}.resource_type = {kind}", f"{res}.deleted = {b(False, r.deleted)}"]
        terms.extend(
            _criterion(res, resource_type, c, b, correlated=c is not driver) for c in criteria
        )
        return " AND ".join(terms)
    # Left to itself SQLite walks every resource of the type through the (resource_type,
    # last_updated) index and tests the IN list on each row; hiding resource_type from the
    # planner makes it start from the driving IN list instead. The other positive lookups
    # probe the driving rows inside that list, so that only the resources matching every
    # one of them are read from fhir_resource.
    terms = [f"({res}.resource_type || '') = {kind}", f"{res}.deleted = {b(False, r.deleted)}"]
    driving = _lookup(driver, _DRIVER, resource_type, b)
    for c in criteria:
        if c is not driver and _is_semi_join(c):
            driving += f" AND EXISTS ({_lookup(c, None, resource_type, b, seq=_DRIVER_SEQ)})"
    terms.append(f"{res}.seq IN ({driving})")
    terms.extend(
        _criterion(res, resource_type, c, b, correlated=True)
        for c in criteria
        if c is not driver and not _is_semi_join(c)
    )
    return " AND ".join(terms)


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


def _criterion(res: str, resource_type: str, c: Criterion, b: _Binds, *, correlated: bool) -> str:
    """The condition one criterion puts on ``res`` (fhir_resource or an alias of it)."""
    code = c.param.code
    r = fhir_resource.c
    if code == "_id":
        ids = [v.code for v in c.values if isinstance(v, TokenValue) and v.code is not None]
        if not ids:
            return _ALL if c.modifier == "not" else _NONE
        listed = ", ".join(b(i, r.id) for i in ids)
        return f"{res}.id {'NOT IN' if c.modifier == 'not' else 'IN'} ({listed})"
    if code == "_lastUpdated":
        column = f"{res}.last_updated"
        ranges = [v for v in c.values if isinstance(v, RangeValue)]
        return _any(_range(v, column, column, r.last_updated, b) for v in ranges)
    # Anti-joins (:missing=true, :not) and SQLite's non-driving terms look up the outer row;
    # both engines plan NOT EXISTS as an anti-join.
    if c.missing is True or c.modifier == "not":
        return f"NOT (EXISTS ({_lookup(c, None, resource_type, b, seq=f'{res}.seq')}))"
    rows = _lookup(c, None, resource_type, b, seq=f"{res}.seq" if correlated else None)
    return f"{res}.seq IN ({rows})"


def _lookup(
    c: Criterion, alias: str | None, resource_type: str, b: _Binds, *, seq: str | None = None
) -> str:
    """``SELECT resource_seq`` of the index rows of ``c`` (its values; any value for
    ``:missing``), from its index table or under ``alias``; ``seq``: only the rows of the
    resource whose seq that is (a probe).

    A probe compares ``resource_type || ''``: without (or with stale) statistics both
    planners may prefer the index with the most equality columns, the (resource_type,
    param, value...) lookup index, and scan every row with that value once per outer
    resource, where the probe index finds the resource's few rows at once.
    """
    table = INDEX_TABLES[c.param.type]
    t = alias or table.name
    source = table.name if alias is None else f"{table.name} AS {alias}"
    # Only schema names are written into the text; every value is a bound parameter.
    rows = (
        f"SELECT {t}.resource_seq FROM {source} WHERE {t}.param = {b(c.param.code, table.c.param)}"  # noqa: S608
    )
    kind = b(resource_type, table.c.resource_type)
    if seq is None:
        rows += f" AND {t}.resource_type = {kind}"
    else:
        rows += f" AND {t}.resource_seq = {seq} AND ({t}.resource_type || '') = {kind}"
    if c.missing is not None:
        return rows
    if c.chain is not None:
        return f"{rows} AND {_chain(table, t, c, b)}"
    return f"{rows} AND {_any(_value(table, t, v, c.modifier, b) for v in c.values)}"


def _chain(refs: Table, t: str, c: Criterion, b: _Binds) -> str:
    """The references of ``refs`` (read as ``t``) that point at a resource matching the chain."""
    assert c.chain is not None
    alternatives = []
    for target_type, chained in c.chain.targets:
        target = b(target_type, refs.c.target_type)
        ids = "SELECT chained.id FROM fhir_resource AS chained WHERE " + _match(  # noqa: S608
            "chained", target_type, [chained], b
        )
        alternatives.append(f"{t}.target_type = {target} AND {t}.target_id IN ({ids})")
    return _any(alternatives)


def _value(t: Table, n: str, v: Value, modifier: str | None, b: _Binds) -> str:
    """The condition of one value on the rows of ``t`` read as ``n``."""
    if isinstance(v, StringValue):
        if modifier == "exact":
            return f"{n}.exact = {b(v.text, t.c.exact)}"
        if modifier == "contains":
            return _like(f"{n}.value", f"%{escape_like(v.text)}%", t.c.value, b)
        return _starts_with(f"{n}.value", v.text, t.c.value, b)
    if isinstance(v, TokenValue):
        conditions = []
        if v.code is not None:
            conditions.append(f"{n}.code = {b(v.code, t.c.code)}")
        if v.system is not None:
            conditions.append(f"{n}.system = {b(v.system, t.c.system)}")
        elif v.no_system:
            conditions.append(f"{n}.system IS NULL")
        return _every(conditions)
    if isinstance(v, ReferenceValue):
        if v.url is not None:
            return f"{n}.url = {b(v.url, t.c.url)}"
        conditions = [f"{n}.target_id = {b(v.target_id, t.c.target_id)}"]
        if v.target_type is not None:
            conditions.append(f"{n}.target_type = {b(v.target_type, t.c.target_type)}")
        return _every(conditions)
    if isinstance(v, RangeValue):
        return _range(v, f"{n}.low", f"{n}.high", t.c.low, b)
    if isinstance(v, QuantityValue):
        conditions = [_range(v.number, f"{n}.low", f"{n}.high", t.c.low, b)]
        if v.code is not None:
            conditions.append(f"{n}.code = {b(v.code, t.c.code)}")
        if v.system is not None:
            conditions.append(f"{n}.system = {b(v.system, t.c.system)}")
        return _every(conditions)
    return _uri(t, n, v, modifier, b)


def _uri(t: Table, n: str, v: UriValue, modifier: str | None, b: _Binds) -> str:
    column = f"{n}.value"
    if modifier == "below":
        return _starts_with(column, v.uri, t.c.value, b)
    if modifier == "above":  # the stored URI is the value or one of its parent paths
        parents = [v.uri[: i + 1] for i, char in enumerate(v.uri) if char == "/"]
        candidates = [v.uri, *parents, *(p.rstrip("/") for p in parents)]
        return f"{column} IN ({', '.join(b(u, t.c.value) for u in candidates)})"
    return f"{column} = {b(v.uri, t.c.value)}"


def _range(v: RangeValue, low: str, high: str, typed: Column[Any], b: _Binds) -> str:
    """search.html 3.1.1.4: the parameter's range against the stored inclusive [low, high]
    (columns ``low`` and ``high``, whose type ``typed`` has)."""

    def within() -> str:
        return f"({low} >= {b(v.low, typed)} AND {high} <= {b(v.high, typed)})"

    if v.prefix == "eq":
        return within()
    if v.prefix == "ne":
        return f"NOT {within()}"
    if v.prefix == "ap":
        if v.point is not None:  # numbers: within the margin (10%) of the value itself
            top, bottom = v.point + v.margin, v.point - v.margin
        else:
            top, bottom = v.high + v.margin, v.low - v.margin
        return f"({low} <= {b(top, typed)} AND {high} >= {b(bottom, typed)})"
    if v.prefix == "sa":
        return f"{low} > {b(v.high, typed)}"
    if v.prefix == "eb":
        return f"{high} < {b(v.low, typed)}"
    if v.point is not None:  # numbers: lt/gt/le/ge compare against the exact value
        column, operator = {
            "gt": (high, ">"),
            "lt": (low, "<"),
            "ge": (high, ">="),
            "le": (low, "<="),
        }[v.prefix]
        return f"{column} {operator} {b(v.point, typed)}"
    if v.prefix in ("gt", "ge"):
        above = f"{high} > {b(v.high, typed)}"
        return above if v.prefix == "gt" else f"({above} OR {within()})"
    below = f"{low} < {b(v.low, typed)}"
    return below if v.prefix == "lt" else f"({below} OR {within()})"


def _any(conditions: Iterable[str]) -> str:
    parts = list(conditions)
    return f"({' OR '.join(parts)})" if parts else _NONE


def _every(conditions: Sequence[str]) -> str:
    return f"({' AND '.join(conditions)})" if conditions else _ALL


def escape_like(text: str) -> str:
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _like(column: str, pattern: str, typed: Column[Any], b: _Binds) -> str:
    return f"{column} LIKE {b(pattern, typed)} ESCAPE '{_LIKE_ESCAPE}'"


def _starts_with(column: str, prefix: str, typed: Column[Any], b: _Binds) -> str:
    like = _like(column, f"{escape_like(prefix)}%", typed, b)
    following = ord(prefix[-1]) + 1
    if following > 0x10FFFF:
        return like
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters: skip them
        following = 0xE000
    upper = prefix[:-1] + chr(following)
    return f"({column} >= {b(prefix, typed)} AND {column} < {b(upper, typed)} AND {like})"
