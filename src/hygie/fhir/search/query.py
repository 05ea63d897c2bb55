"""A parsed search: plain values that :mod:`.params` builds and :mod:`.sql` turns into SQL.

A :class:`SearchQuery` is a conjunction of :class:`Criterion` (one per repeated parameter:
AND), each a disjunction of values (the comma-separated ones: OR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hygie.fhir.searchparams import SearchParam

Prefix = Literal["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"]
PREFIXES: frozenset[str] = frozenset(("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"))
Total = Literal["none", "estimate", "accurate"]
Summary = Literal["true", "text", "data", "count", "false"]


@dataclass(frozen=True)
class StringValue:
    text: str  # normalized (default, :contains) or as written (:exact)


@dataclass(frozen=True)
class TokenValue:
    """``code`` (any system), ``system|code``, ``|code`` (no system) or ``system|`` (any code)."""

    system: str | None
    code: str | None
    no_system: bool = False


@dataclass(frozen=True)
class ReferenceValue:
    target_type: str | None
    target_id: str | None
    url: str | None = None  # absolute or canonical references, matched as written


@dataclass(frozen=True)
class RangeValue:
    """A date or number with its prefix: the inclusive range the value stands for.

    ``point`` is the number itself (numbers compare lt/gt/le/ge against the exact value,
    as search.html 3.1.1.4.1 shows); dates compare ranges on both sides, so it is None.
    ``margin`` widens the range for ``ap``.
    """

    prefix: Prefix
    low: float
    high: float
    point: float | None = None
    margin: float = 0.0


@dataclass(frozen=True)
class QuantityValue:
    number: RangeValue
    system: str | None
    code: str | None  # a UCUM code when system is given, else code or unit


@dataclass(frozen=True)
class UriValue:
    uri: str


Value = StringValue | TokenValue | ReferenceValue | RangeValue | QuantityValue | UriValue


@dataclass(frozen=True)
class Chain:
    """``subject:Patient.name=x``: the chained criterion, one per possible target type."""

    targets: tuple[tuple[str, Criterion], ...]


@dataclass(frozen=True)
class Criterion:
    """One parameter occurrence: any of ``values`` matches (or ``missing``, or ``chain``)."""

    param: SearchParam
    modifier: str | None = None  # exact, contains, not, below, above (type modifiers resolved)
    values: tuple[Value, ...] = ()
    missing: bool | None = None
    chain: Chain | None = None


@dataclass(frozen=True)
class SortKey:
    param: SearchParam
    descending: bool


@dataclass(frozen=True)
class Include:
    """``_include=Source:param[:Target]`` or ``_revinclude=...``; ``param`` None means ``*``."""

    source_type: str
    param: str | None
    target_type: str | None
    iterate: bool


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the boundary row's sort key values and seq, and which way to go."""

    keys: tuple[str | int | float | None, ...]
    seq: int
    forward: bool


@dataclass(frozen=True)
class SearchQuery:
    resource_type: str
    criteria: tuple[Criterion, ...]
    sort: tuple[SortKey, ...]
    count: int
    total: Total
    summary: Summary | None
    elements: tuple[str, ...] | None
    includes: tuple[Include, ...]
    revincludes: tuple[Include, ...]
    cursor: Cursor | None
    link_params: tuple[tuple[str, str], ...]  # what the self/next/previous links carry
    ignored: tuple[str, ...]  # unknown parameters, left out of the links
