"""FHIR R4 primitive datatypes as JSON values: each check returns None or what is wrong.

Formats and ranges are those of the R4 specification (datatypes.html, json.html#primitive).
JSON types are strict: ``"true"`` is not a boolean and ``"5"`` is not an integer, as
json.html requires; a value the client meant as a number must be sent as one.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from datetime import date

PrimitiveCheck = Callable[[object], str | None]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_STRING_CHARS = 1024 * 1024  # datatypes.html#string: strings SHALL NOT exceed 1 MB

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_DATE_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATETIME_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?")
_INSTANT_RE = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}")
_TIME_RE = re.compile(_TIME)
_CODE_RE = re.compile(r"[^\s]+( [^\s]+)*")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URI_RE = re.compile(r"\S+")  # R4 says \S*; an empty string is not a value (json.html)
_OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def describe(value: object) -> str:
    """A JSON value named for a message: its kind, and the value itself when short."""
    kind = _json_kind(value)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return f"{kind} ({_shown(value)})"
    return kind


def _string(value: object) -> str | None:
    if not isinstance(value, str):
        return f"expected a string, got {describe(value)}"
    if len(value) > MAX_STRING_CHARS:
        return f"a string may hold at most {MAX_STRING_CHARS} characters, got {len(value)}"
    if not value:
        return "empty string; omit the element instead"
    return None


def _pattern(name: str, rule: str, pattern: re.Pattern[str]) -> PrimitiveCheck:
    def check(value: object) -> str | None:
        if not isinstance(value, str):
            return f"expected {name} as a string, got {describe(value)}"
        if not value:
            return "empty string; omit the element instead"
        if pattern.fullmatch(value) is None:
            return f"{_shown(value)} is not {name} ({rule})"
        return None

    return check


def _calendar(name: str, rule: str, pattern: re.Pattern[str]) -> PrimitiveCheck:
    """A date-like format whose day, when present, must exist (no 2023-02-30)."""
    shape = _pattern(name, rule, pattern)

    def check(value: object) -> str | None:
        problem = shape(value)
        if problem is None and isinstance(value, str) and len(value) >= 10:
            try:
                date(int(value[:4]), int(value[5:7]), int(value[8:10]))
            except ValueError:
                return f"{_shown(value)} is not a calendar date"
        return problem

    return check


def _boolean(value: object) -> str | None:
    if not isinstance(value, bool):
        return f"expected true or false, got {describe(value)}"
    return None


def _integer(low: int) -> PrimitiveCheck:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {describe(value)}"
        if not low <= value <= INT32_MAX:
            return f"{value} is out of range: expected {low} to {INT32_MAX}"
        return None

    return check


def _decimal(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {describe(value)}"
    return None


def _base64(value: object) -> str | None:
    if not isinstance(value, str):
        return f"expected base64 text as a string, got {describe(value)}"
    try:  # whitespace is allowed between the characters (the R4 regex has \s)
        binascii.a2b_base64("".join(value.split()), strict_mode=True)
    except (binascii.Error, ValueError):  # ValueError: not ASCII
        return "not base64 text (RFC 4648: A-Z, a-z, 0-9, '+', '/', '=' padding)"
    return None


def _xhtml(value: object) -> str | None:
    if not isinstance(value, str):
        return f"expected XHTML as a string, got {describe(value)}"
    if not value.startswith("<div"):
        return "narrative XHTML must be a single <div> element (narrative.html#xhtml)"
    return None


_URI = _pattern("a URI", "no whitespace", _URI_RE)

CHECKS: dict[str, PrimitiveCheck] = {
    "string": _string,
    "markdown": _string,
    "boolean": _boolean,
    "integer": _integer(INT32_MIN),
    "unsignedInt": _integer(0),
    "positiveInt": _integer(1),
    "decimal": _decimal,
    "code": _pattern("a code", "no leading, trailing or double spaces", _CODE_RE),
    "id": _pattern("an id", "1 to 64 of A-Z, a-z, 0-9, '-', '.'", _ID_RE),
    "uri": _URI,
    "url": _URI,
    "canonical": _URI,
    "oid": _pattern("an OID", "urn:oid:1.2.3...", _OID_RE),
    "uuid": _pattern("a UUID", "urn:uuid: and lowercase hex", _UUID_RE),
    "date": _calendar("a date", "YYYY, YYYY-MM or YYYY-MM-DD", _DATE_RE),
    "dateTime": _calendar(
        "a dateTime",
        "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
        _DATETIME_RE,
    ),
    "instant": _calendar("an instant", "YYYY-MM-DDThh:mm:ss[.sss] with a time zone", _INSTANT_RE),
    "time": _pattern("a time", "hh:mm:ss", _TIME_RE),
    "base64Binary": _base64,
    "xhtml": _xhtml,
}
