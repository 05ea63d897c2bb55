"""Search-index row values from FHIR values, by search parameter type and FHIR data type.

Each converter turns one FHIR value into the tails of its index rows (the row without
its parameter name), following the FHIR R4 search spec (search.html): a HumanName
indexes each of its parts as a string, a CodeableConcept each coding as a token, a Period
the range from its start to its end, a decimal the range its precision implies. Values
that say nothing searchable (a Quantity without value, an invalid date, a local
reference, SampledData) give no row. Text is cut to the index columns' lengths.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from hygie.fhir.dates import date_range, to_micros
from hygie.fhir.references import parse_reference
from hygie.fhir.text import MAX_INDEXED_CHARS, normalize

Tail = tuple[Any, ...]
Converter = Callable[[Any], Sequence[Tail]]

# Open ends of Periods and Ranges: the first and last microsecond of years 1 to 9999, and
# the largest finite floats, so that range comparisons need no NULL handling.
MIN_DATE_US = to_micros(datetime.min.replace(tzinfo=UTC))
MAX_DATE_US = to_micros(datetime.max.replace(tzinfo=UTC))
MIN_NUMBER = -sys.float_info.max
MAX_NUMBER = sys.float_info.max

TOKEN_CHARS = 256
QUANTITY_CODE_CHARS = 128
REFERENCE_PART_CHARS = 64
URL_CHARS = 512
CURRENCY_SYSTEM = "urn:iso:std:iso:4217"

_NONE: tuple[Tail, ...] = ()


def _cut(value: Any, length: int) -> str | None:
    return value[:length] if isinstance(value, str) and value else None


# -- string ---------------------------------------------------------------------------------
def _string_tail(value: Any) -> Tail | None:
    if not isinstance(value, str):
        return None
    normalized = normalize(value)
    return (normalized, value[:MAX_INDEXED_CHARS]) if normalized else None


def _strings(values: list[Any]) -> Sequence[Tail]:
    return [tail for tail in map(_string_tail, values) if tail is not None]


def _string(value: Any) -> Sequence[Tail]:
    tail = _string_tail(value)
    return (tail,) if tail is not None else _NONE


def _parts(
    value: Mapping[str, Any], single: tuple[str, ...], repeated: tuple[str, ...]
) -> list[Any]:
    parts = [value.get(key) for key in single]
    for key in repeated:
        parts.extend(value.get(key) or ())
    return parts


def _human_name(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _strings(_parts(value, ("family", "text"), ("given", "prefix", "suffix")))


_ADDRESS_PARTS = ("city", "district", "state", "postalCode", "country", "text")


def _address(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _strings(_parts(value, _ADDRESS_PARTS, ("line",)))


# -- token ----------------------------------------------------------------------------------
def _system_code(system: Any, code: Any) -> Sequence[Tail]:
    system, code = _cut(system, TOKEN_CHARS), _cut(code, TOKEN_CHARS)
    return ((system, code),) if system or code else _NONE


def _coding(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _system_code(value.get("system"), value.get("code"))


def _codeable_concept(value: Mapping[str, Any]) -> Sequence[Tail]:
    return [tail for coding in value.get("coding") or () for tail in _coding(coding)]


def _identifier(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _system_code(value.get("system"), value.get("value"))


def _contact_point(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _system_code(None, value.get("value"))


def _code(value: Any) -> Sequence[Tail]:
    return _system_code(None, value)


def _boolean(value: Any) -> Sequence[Tail]:
    return ((None, "true" if value else "false"),) if isinstance(value, bool) else _NONE


# -- reference ------------------------------------------------------------------------------
def _reference(value: Mapping[str, Any]) -> Sequence[Tail]:
    target = parse_reference(value.get("reference") or "")
    if target is None:  # local "#id", identifier-only or display-only reference
        return _NONE
    return (
        (
            _cut(target.target_type, REFERENCE_PART_CHARS),
            _cut(target.target_id, REFERENCE_PART_CHARS),
            _cut(target.url, URL_CHARS),
        ),
    )


def _url_reference(value: Any) -> Sequence[Tail]:
    url = _cut(value, URL_CHARS)
    return ((None, None, url),) if url else _NONE


def _attachment_reference(value: Mapping[str, Any]) -> Sequence[Tail]:
    return _url_reference(value.get("url"))


def _embedded_resource(value: Mapping[str, Any]) -> Sequence[Tail]:
    resource_type, resource_id = value.get("resourceType"), value.get("id")
    if not resource_type or not resource_id:
        return _NONE
    return (
        (_cut(resource_type, REFERENCE_PART_CHARS), _cut(resource_id, REFERENCE_PART_CHARS), None),
    )


# -- date -----------------------------------------------------------------------------------
def _date(value: Any) -> Sequence[Tail]:
    try:
        return (date_range(value),)
    except (
        ValueError,
        OverflowError,
        AttributeError,
        TypeError,
    ):  # invalid: validation reports it elsewhere
        return _NONE


def _period(value: Mapping[str, Any]) -> Sequence[Tail]:
    start, end = value.get("start"), value.get("end")
    if start is None and end is None:
        return _NONE
    try:
        low = date_range(start)[0] if start is not None else MIN_DATE_US
        high = date_range(end)[1] if end is not None else MAX_DATE_US
    except (ValueError, OverflowError, AttributeError, TypeError):
        return _NONE
    return ((low, high),)


def _timing(value: Mapping[str, Any]) -> Sequence[Tail]:
    tails = [tail for event in value.get("event") or () for tail in _date(event)]
    bounds = (value.get("repeat") or {}).get("boundsPeriod")
    if bounds:
        tails.extend(_period(bounds))
    return tails


# -- number and quantity --------------------------------------------------------------------
def precision_range(value: Any) -> tuple[float, float] | None:
    """The range a number's written precision implies: 100 -> (99.5, 100.5), 1.50 -> ±0.005.

    A float parsed from JSON keeps its shortest form: 100.0 -> (99.95, 100.05).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        exact = value if isinstance(value, Decimal) else Decimal(repr(value))
        exponent = exact.as_tuple().exponent
        if not isinstance(exponent, int):  # NaN or infinity
            return None
        half = Decimal(5).scaleb(exponent - 1)
        return float(exact - half), float(exact + half)
    except InvalidOperation:
        return None


def _number(value: Any) -> Sequence[Tail]:
    bounds = precision_range(value)
    return (bounds,) if bounds is not None else _NONE


def _range_bounds(value: Mapping[str, Any]) -> tuple[float, float] | None:
    low, high = value.get("low") or {}, value.get("high") or {}
    low_bounds, high_bounds = precision_range(low.get("value")), precision_range(high.get("value"))
    if low_bounds is None and high_bounds is None:
        return None
    return (
        low_bounds[0] if low_bounds else MIN_NUMBER,
        high_bounds[1] if high_bounds else MAX_NUMBER,
    )


def _number_range(value: Mapping[str, Any]) -> Sequence[Tail]:
    bounds = _range_bounds(value)
    return (bounds,) if bounds is not None else _NONE


def _unit(system: Any, code: Any) -> tuple[str | None, str | None]:
    return _cut(system, TOKEN_CHARS), _cut(code, QUANTITY_CODE_CHARS)


def _quantity(value: Mapping[str, Any]) -> Sequence[Tail]:
    bounds = precision_range(value.get("value"))
    if bounds is None:
        return _NONE
    return (_unit(value.get("system"), value.get("code") or value.get("unit")) + bounds,)


def _money(value: Mapping[str, Any]) -> Sequence[Tail]:
    bounds = precision_range(value.get("value"))
    if bounds is None:
        return _NONE
    return (_unit(CURRENCY_SYSTEM, value.get("currency")) + bounds,)


def _quantity_range(value: Mapping[str, Any]) -> Sequence[Tail]:
    bounds = _range_bounds(value)
    if bounds is None:
        return _NONE
    unit = value.get("low") or value.get("high") or {}
    return (_unit(unit.get("system"), unit.get("code") or unit.get("unit")) + bounds,)


# -- uri ------------------------------------------------------------------------------------
def _uri(value: Any) -> Sequence[Tail]:
    uri = _cut(value, URL_CHARS)
    return ((uri,),) if uri else _NONE


def _skip(_value: Any) -> Sequence[Tail]:
    return _NONE


# By search parameter type, then FHIR type; a type missing here is looked up through its
# ancestors (Age -> Quantity, markdown -> string, canonical -> uri).
CONVERTERS: dict[str, dict[str, Converter]] = {
    "string": {"string": _string, "HumanName": _human_name, "Address": _address},
    "token": {
        "Coding": _coding,
        "CodeableConcept": _codeable_concept,
        "Identifier": _identifier,
        "ContactPoint": _contact_point,
        "string": _code,
        "uri": _code,
        "boolean": _boolean,
    },
    "reference": {
        "Reference": _reference,
        "uri": _url_reference,
        "Attachment": _attachment_reference,
        "Resource": _embedded_resource,
    },
    "date": {
        "date": _date,
        "dateTime": _date,
        "instant": _date,
        "Period": _period,
        "Timing": _timing,
    },
    "number": {"integer": _number, "decimal": _number, "Range": _number_range},
    "quantity": {
        "Quantity": _quantity,
        "Money": _money,
        "Range": _quantity_range,
        "SampledData": _skip,  # a waveform: its origin is no measured value
    },
    "uri": {"uri": _uri},
}
