"""Turn the (name, value) pairs of a search request into a :class:`SearchQuery`.

Every malformed value is a 400 naming the parameter. Unknown parameters are ignored and
left out of the links (search.html 3.1.1.2), unless the client asked for
``Prefer: handling=strict``, in which case they are a 400 naming them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from hygie.fhir.errors import bad_request
from hygie.fhir.search.paging import decode_cursor
from hygie.fhir.search.query import (
    Chain,
    Criterion,
    Cursor,
    Include,
    SearchQuery,
    SortKey,
    Summary,
    Total,
)
from hygie.fhir.search.values import (
    check_resource_type,
    parse_bool,
    parse_value,
    split_or,
)
from hygie.fhir.searchparams import SearchParam, SearchParamRegistry

MAX_PARAMETERS = 100  # (name, value) pairs in one search
MAX_VALUES = 100  # comma-separated alternatives, summed over all criteria
MAX_VALUE_CHARS = 1024
MAX_INCLUDES = 20  # _include and _revinclude parameters

_MODIFIERS: dict[str, frozenset[str]] = {
    "string": frozenset(("exact", "contains", "missing")),
    "token": frozenset(("not", "missing")),
    "reference": frozenset(("missing",)),  # plus a resource type, see _split_name
    "date": frozenset(("missing",)),
    "number": frozenset(("missing",)),
    "quantity": frozenset(("missing",)),
    "uri": frozenset(("below", "above", "missing")),
}
_SORTABLE = frozenset(("string", "date", "token", "number", "quantity", "uri", "reference"))
# Result parameters that shape the answer, and the two the HTTP layer itself reads.
_CONTROL = frozenset(
    (
        "_count",
        "_sort",
        "_total",
        "_summary",
        "_elements",
        "_include",
        "_revinclude",
        "_cursor",
        "_format",
        "_pretty",
    )
)
_SINGLE = frozenset(("_count", "_sort", "_total", "_summary", "_elements", "_cursor"))
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_ELEMENT = re.compile(r"^[a-z][A-Za-z0-9]*$")


def parse_search(
    resource_type: str,
    params: Sequence[tuple[str, str]],
    registry: SearchParamRegistry,
    *,
    strict: bool,
    default_count: int,
    max_count: int,
) -> SearchQuery:
    """Parse ``params`` for a search of ``resource_type``; raises FhirError(400) if malformed."""
    if len(params) > MAX_PARAMETERS:
        raise bad_request(f"a search takes at most {MAX_PARAMETERS} parameters, got {len(params)}")
    criteria: list[Criterion] = []
    control: dict[str, str] = {}
    includes: list[Include] = []
    revincludes: list[Include] = []
    ignored: list[str] = []
    kept: list[tuple[str, str]] = []
    n_values = 0
    for name, value in params:
        if len(name) > MAX_VALUE_CHARS or len(value) > MAX_VALUE_CHARS:
            raise bad_request(
                f"search parameter {name[:64]!r}: names and values are limited to "
                f"{MAX_VALUE_CHARS} characters"
            )
        base, _, modifier = name.partition(":")
        if base in ("_include", "_revinclude"):
            include = _include(name, modifier, value, resource_type, registry)
            (includes if base == "_include" else revincludes).append(include)
            if len(includes) + len(revincludes) > MAX_INCLUDES:
                raise bad_request(f"at most {MAX_INCLUDES} _include and _revinclude parameters")
            kept.append((name, value))
            continue
        if name in _CONTROL:
            if name in _SINGLE and name in control:
                raise bad_request(f"{name} is given more than once", name)
            control[name] = value
            if name != "_cursor":
                kept.append((name, value))
            continue
        criterion = _criterion(resource_type, name, value, registry)
        if criterion is None:
            ignored.append(name)
            continue
        n_values += max(1, len(criterion.values))
        if n_values > MAX_VALUES:
            raise bad_request(f"a search takes at most {MAX_VALUES} values in all")
        criteria.append(criterion)
        kept.append((name, value))
    if ignored and strict:
        raise bad_request(
            f"unknown search parameters for {resource_type}: {', '.join(sorted(set(ignored)))}",
            code="not-supported",
        )
    count = _count(control.get("_count"), default_count, max_count)
    kept = [(n, str(count)) if n == "_count" else (n, v) for n, v in kept]
    sort = _sort(control.get("_sort"), resource_type, registry)
    summary = _summary(control.get("_summary"))
    elements = _elements(control.get("_elements"))
    if elements is not None and summary not in (None, "false"):
        raise bad_request("_summary and _elements cannot be used together")
    raw_cursor = control.get("_cursor")
    cursor: Cursor | None = None if raw_cursor is None else decode_cursor(raw_cursor, sort)
    return SearchQuery(
        resource_type=resource_type,
        criteria=tuple(criteria),
        sort=sort,
        count=count,
        total=_total(control.get("_total")),
        summary=summary,
        elements=elements,
        includes=tuple(includes),
        revincludes=tuple(revincludes),
        cursor=cursor,
        link_params=tuple(kept),
        ignored=tuple(ignored),
    )


def _split_name(
    name: str, resource_type: str, registry: SearchParamRegistry
) -> tuple[SearchParam, str | None] | None:
    """``code[:modifier]`` -> the parameter and its modifier; None if the code is unknown."""
    if not _NAME.match(name.replace(":", "_", 1)):
        return None
    code, _, modifier = name.partition(":")
    param = registry.get(resource_type, code)
    if param is None:
        return None
    if not modifier:
        return param, None
    if param.type == "reference" and modifier[:1].isupper():
        check_resource_type(modifier, name)
        if param.targets and modifier not in param.targets:
            raise bad_request(f"{code} refers to {', '.join(param.targets)}, not to {modifier}")
        return param, modifier
    allowed = _MODIFIERS[param.type]
    if code == "_id":
        allowed = frozenset(("not",))
    elif code == "_lastUpdated":
        allowed = frozenset()
    if modifier not in allowed:
        supported = ", ".join(f":{m}" for m in sorted(allowed)) or "none"
        raise bad_request(
            f"{name}: modifier :{modifier} is not supported on the {param.type} parameter "
            f"{code} (supported: {supported})",
            code="not-supported",
        )
    return param, modifier


def _criterion(
    resource_type: str, name: str, raw: str, registry: SearchParamRegistry
) -> Criterion | None:
    head, dot, chained = name.partition(".")
    split = _split_name(head, resource_type, registry)
    if split is None:
        return None
    param, modifier = split
    if dot:
        return _chain(param, modifier, head, chained, raw, registry)
    if modifier == "missing":
        return Criterion(param, "missing", missing=parse_bool(raw, name))
    values = [parse_value(param, modifier, alt, name) for alt in split_or(raw)]
    _check_value_count(len(values), name)
    if param.type == "reference":  # the type modifier lives in the values
        modifier = None
    return Criterion(param, modifier, tuple(values))


def _chain(
    param: SearchParam,
    type_modifier: str | None,
    head: str,
    chained: str,
    raw: str,
    registry: SearchParamRegistry,
) -> Criterion:
    if param.type != "reference":
        raise bad_request(f"{head}.{chained}: only reference parameters can be chained")
    if "." in chained:
        raise bad_request(f"{head}.{chained}: only one level of chaining is supported")
    if type_modifier == "missing":
        raise bad_request(f"{head}.{chained}: :missing cannot be chained")
    candidates = (type_modifier,) if type_modifier else param.targets
    targets: list[tuple[str, Criterion]] = []
    for target in candidates:
        criterion = _criterion(target, chained, raw, registry)
        if criterion is not None:
            targets.append((target, criterion))
    if not targets:
        where = type_modifier or " or ".join(candidates) or "the target"
        raise bad_request(f"{head}.{chained}: {where} has no search parameter {chained!r}")
    return Criterion(param, chain=Chain(tuple(targets)))


def _check_value_count(count: int, name: str) -> None:
    if count > MAX_VALUES:
        raise bad_request(f"{name}: at most {MAX_VALUES} comma-separated values")


def _include(
    name: str, modifier: str, value: str, resource_type: str, registry: SearchParamRegistry
) -> Include:
    if modifier not in ("", "iterate", "recurse"):
        raise bad_request(f"{name}: the only modifier is :iterate")
    iterate = modifier != ""
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise bad_request(
            f"{name}={value!r}: expected SourceType:parameter or SourceType:parameter:TargetType"
        )
    source = check_resource_type(parts[0], name)
    code = parts[1]
    target = check_resource_type(parts[2], name) if len(parts) == 3 else None
    is_forward = name.startswith("_include")
    if is_forward and not iterate and source != resource_type:
        raise bad_request(
            f"{name}={value!r}: a search of {resource_type} includes from {resource_type} "
            "(use :iterate to include from included resources)"
        )
    if code == "*":
        return Include(source, None, target, iterate)
    param = registry.get(source, code)
    if param is None or param.type != "reference":
        raise bad_request(f"{name}: {source} has no reference search parameter {code!r}")
    if target is not None and param.targets and target not in param.targets:
        raise bad_request(f"{name}: {source}.{code} does not refer to {target}")
    return Include(source, code, target, iterate)


def _count(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise bad_request(f"_count must be a whole number from 0, got {raw!r}", "_count")
    return min(int(raw), maximum)  # the spec lets a server return fewer than asked


def _sort(
    raw: str | None, resource_type: str, registry: SearchParamRegistry
) -> tuple[SortKey, ...]:
    if raw is None:
        return ()
    keys: list[SortKey] = []
    for part in raw.split(","):
        descending = part.startswith("-")
        code = part[1:] if descending else part
        param = registry.get(resource_type, code)
        if param is None or param.type not in _SORTABLE:
            raise bad_request(f"_sort: {resource_type} cannot be sorted on {code!r}", "_sort")
        if any(k.param.code == code for k in keys):
            raise bad_request(f"_sort: {code!r} is given twice", "_sort")
        keys.append(SortKey(param, descending))
    return tuple(keys)


def _total(raw: str | None) -> Total:
    if raw is None:
        return "estimate"
    if raw not in ("none", "estimate", "accurate"):
        raise bad_request(f"_total takes none, estimate or accurate, got {raw!r}", "_total")
    return cast(Total, raw)


def _summary(raw: str | None) -> Summary | None:
    if raw is None:
        return None
    if raw not in ("true", "text", "data", "count", "false"):
        raise bad_request(
            f"_summary takes true, text, data, count or false, got {raw!r}", "_summary"
        )
    return cast(Summary, raw)


def _elements(raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = tuple(n.strip() for n in raw.split(","))
    bad = [n for n in names if not _ELEMENT.match(n)]
    if bad:
        raise bad_request(f"_elements: {', '.join(map(repr, bad))} is not an element name")
    return names
