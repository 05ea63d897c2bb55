"""Parse one search value of each type, as search.html 3.1.1 writes them.

Values arrive already split on unescaped commas; ``\\,`` ``\\|`` ``\\$`` and ``\\\\`` are the
escapes the spec defines.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from typing import cast

from hygie.fhir.dates import date_range
from hygie.fhir.errors import bad_request
from hygie.fhir.search.query import (
    PREFIXES,
    Prefix,
    QuantityValue,
    RangeValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
    Value,
)
from hygie.fhir.searchparams import SearchParam
from hygie.fhir.text import MAX_INDEXED_CHARS, normalize

RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_RELATIVE_REF = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_LEADING_PREFIX = re.compile(r"^([a-z]{2})(?=[-+0-9.])")
_AP_FRACTION = 0.1  # "ap": within 10%, as search.html recommends


def split_unescaped(raw: str, separator: str | None) -> list[str]:
    """Split on ``separator`` (None: do not split) unless backslash-escaped; unescape."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped in (",", "|", "$", "\\"):
                current.append(escaped)
            else:  # not an escape the spec defines: keep the backslash as written
                current.append("\\" + escaped)
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_or(raw: str) -> list[str]:
    """Comma-separated alternatives; only ``\\,`` is unescaped here, the rest stays escaped."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            current.append(escaped if escaped == "," else "\\" + escaped)
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(raw: str) -> str:
    return split_unescaped(raw, None)[0]


def parse_value(param: SearchParam, modifier: str | None, raw: str, name: str) -> Value:
    """One alternative of ``name=raw`` for ``param``; 400 naming the parameter if malformed."""
    if raw == "":
        raise bad_request(f"{name}: empty value (between commas or after '=')")
    kind = param.type
    if kind == "string":
        text = _unescape(raw)
        if modifier == "exact":
            return StringValue(text[:MAX_INDEXED_CHARS])
        folded = normalize(text)
        if not folded:
            raise bad_request(f"{name}: {raw!r} has nothing to search for")
        return StringValue(folded)
    if kind == "token":
        return _token(raw)
    if kind == "reference":
        return _reference(_unescape(raw), modifier, param, name)
    if kind == "date":
        return _date(raw, name)
    if kind == "number":
        return _number(raw, name)
    if kind == "quantity":
        return _quantity(raw, name)
    return UriValue(_unescape(raw))


def _token(raw: str) -> TokenValue:
    parts = split_unescaped(raw, "|")
    if len(parts) == 1:
        return TokenValue(None, parts[0])
    system, code = parts[0], "|".join(parts[1:])
    if system == "":
        return TokenValue(None, code or None, no_system=True)
    return TokenValue(system, code or None)


def _reference(value: str, modifier: str | None, param: SearchParam, name: str) -> ReferenceValue:
    match = _RELATIVE_REF.match(value)
    if match:
        target_type, target_id = match.groups()
        if modifier is not None and modifier != target_type:
            raise bad_request(f"{name}: {value!r} is not a {modifier} reference")
        _check_target(param, target_type, name)
        return ReferenceValue(target_type, target_id)
    if "://" in value or value.startswith("urn:"):
        return ReferenceValue(None, None, value)
    if "/" in value:
        raise bad_request(
            f"{name}: {value!r} is not a reference (Type/id, an id or an absolute URL)"
        )
    return ReferenceValue(modifier, value)


def _check_target(param: SearchParam, target_type: str, name: str) -> None:
    if param.targets and target_type not in param.targets:
        raise bad_request(
            f"{name} refers to {', '.join(param.targets)}, not to {target_type}",
        )


def _split_prefix(raw: str, name: str) -> tuple[Prefix, str]:
    match = _LEADING_PREFIX.match(raw)
    if not match:
        return "eq", raw
    prefix = match.group(1)
    if prefix not in PREFIXES:
        raise bad_request(
            f"{name}: unknown prefix {prefix!r} in {raw!r} (eq ne gt lt ge le sa eb ap)"
        )
    return cast(Prefix, prefix), raw[2:]


def _date(raw: str, name: str) -> RangeValue:
    prefix, rest = _split_prefix(raw, name)
    try:
        low, high = date_range(rest)
    except ValueError as exc:
        raise bad_request(f"{name}: {exc}") from None
    margin = 0.0
    if prefix == "ap":
        now = time.time_ns() // 1000
        margin = _AP_FRACTION * abs(now - (low + high) / 2)
    return RangeValue(prefix, low, high, margin=margin)


def _number(raw: str, name: str) -> RangeValue:
    prefix, rest = _split_prefix(raw, name)
    try:
        number = Decimal(rest)
    except InvalidOperation:
        raise bad_request(f"{name}: {raw!r} is not a number") from None
    if not number.is_finite():
        raise bad_request(f"{name}: {raw!r} is not a finite number")
    # Implicit precision: "100" stands for [99.5, 100.5], "100.00" for [99.995, 100.005].
    exponent = number.as_tuple().exponent
    half = Decimal(5).scaleb(int(exponent) - 1)
    value = float(number)
    margin = max(_AP_FRACTION * abs(value), float(half)) if prefix == "ap" else 0.0
    return RangeValue(prefix, float(number - half), float(number + half), value, margin)


def _quantity(raw: str, name: str) -> QuantityValue:
    parts = split_unescaped(raw, "|")
    if len(parts) not in (1, 3):
        raise bad_request(
            f"{name}: {raw!r} is not a quantity (number, number|system|code or number||unit)"
        )
    number = _number(parts[0], name)
    if len(parts) == 1:
        return QuantityValue(number, None, None)
    system, code = parts[1] or None, parts[2] or None
    if system is not None and code is None:
        raise bad_request(f"{name}: {raw!r} gives a unit system without a unit code")
    return QuantityValue(number, system, code)


def check_resource_type(value: str, what: str) -> str:
    if not RESOURCE_TYPE.match(value):
        raise bad_request(f"{what}: {value!r} is not a resource type")
    return value


def parse_bool(raw: str, name: str) -> bool:
    if raw not in ("true", "false"):
        raise bad_request(f"{name} takes true or false, got {raw!r}")
    return raw == "true"
