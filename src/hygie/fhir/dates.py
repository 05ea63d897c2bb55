"""FHIR dates as integer ranges of microseconds since the Unix epoch (UTC), both ends inclusive.

A FHIR date is a range at its own precision: "2024" is the whole year, "2024-03-05T10:00"
that minute. Indexing and search both go through :func:`date_range`, so that search
prefixes (eq, lt, sa, ...) compare ranges on both sides, as the FHIR search spec asks.
A date-time without a time zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?P<f>\.\d+)?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def format_instant(micros: int) -> str:
    """An ``instant`` as FHIR writes it: 2024-03-05T10:00:00.123456+00:00 -> ...Z."""
    return from_micros(micros).isoformat(timespec="microseconds").replace("+00:00", "Z")


def date_range(value: str) -> tuple[int, int]:
    """The inclusive range in microseconds that a FHIR date, dateTime or instant covers.

    Raises ValueError with a readable message on anything that is not a FHIR date.
    """
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or dateTime)")
    parts = match.groupdict()
    tz = parts["tz"]
    if parts["H"] is not None and parts["M"] is None:
        raise ValueError(f"{value!r}: a time needs at least hours and minutes")
    try:
        year = int(parts["y"])
        if parts["m"] is None:
            start = datetime(year, 1, 1, tzinfo=UTC)
            return to_micros(start), _first_of_month(year + 1, 1) - 1
        elif parts["d"] is None:
            month = int(parts["m"])
            start = datetime(year, month, 1, tzinfo=UTC)
            return to_micros(start), _first_of_month(year + month // 12, month % 12 + 1) - 1
        elif parts["H"] is None:
            start = datetime(year, int(parts["m"]), int(parts["d"]), tzinfo=UTC)
            end = start + timedelta(days=1)
        else:
            offset: timezone = UTC
            if tz and tz != "Z":
                sign = 1 if tz[0] == "+" else -1
                hours, minutes = int(tz[1:3]), int(tz[4:6])
                offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
            fraction = parts["f"] or ""
            micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
            start = datetime(
                year,
                int(parts["m"]),
                int(parts["d"]),
                int(parts["H"]),
                int(parts["M"]),
                int(parts["S"] or 0),
                micros,
                tzinfo=offset,
            )
            if parts["S"] is None:
                end = start + timedelta(minutes=1)
            elif fraction:
                digits = min(len(fraction) - 1, 6)
                end = start + timedelta(microseconds=10 ** (6 - digits))
            else:
                end = start + timedelta(seconds=1)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{value!r} is not a valid date: {exc}") from None
    return to_micros(start), to_micros(end) - 1


def _first_of_month(year: int, month: int) -> int:
    """The first microsecond of a month; for year 10000, the microsecond after 9999's end."""
    if year > 9999:
        return to_micros(datetime.max.replace(tzinfo=UTC)) + 1
    return to_micros(datetime(year, month, 1, tzinfo=UTC))
