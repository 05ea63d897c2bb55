"""Tag reports from the wire (HTTP body or MQTT payload) to checked :class:`TagReport` values.

A report is a JSON object: ``{"t": <ISO 8601 with offset | epoch seconds>, "scan": {ap: dBm}}``
or ``{"t": ..., "position": {"building", "level", "x", "y", "uncertainty_m"}}``; ``t`` may be
left out (the time of receipt). Every error names the offending field; one bad report
rejects the whole body, so nothing is half stored.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import orjson

from hygie.location.tracking.model import Fix, Place, TagReport, TrackingError

MAX_BATCH = 1000
MAX_SCAN_ENTRIES = 1024
RSSI_MIN_DBM, RSSI_MAX_DBM = -120.0, 0.0
FUTURE_SLACK_US = 5 * 60 * 1_000_000  # tag clocks drift; beyond this a time is wrong
MAX_AGE_US = 30 * 24 * 3600 * 1_000_000  # buffered reports older than this are refused
TAG_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_AP_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def check_tag_id(tag_id: str) -> str:
    if not TAG_ID.match(tag_id):
        raise TrackingError(
            422, f"{tag_id[:80]!r} is not a valid tag id (1 to 64 of A-Z a-z 0-9 . _ : -)"
        )
    return tag_id


def parse_tag_body(body: bytes, tag_id: str, now_us: int) -> list[TagReport]:
    """One tag's body: a report object or an array of them."""
    check_tag_id(tag_id)
    data = _load(body)
    items = data if isinstance(data, list) else [data]
    _check_size(items, "the body")
    return [_report(item, tag_id, now_us, f"[{i}]") for i, item in enumerate(items)]


def parse_batch_body(body: bytes, now_us: int) -> list[TagReport]:
    """Many tags' reports: ``{"reports": [{"tag": id, ...report}, ...]}``."""
    data = _load(body)
    if not isinstance(data, dict) or not isinstance(data.get("reports"), list):
        raise TrackingError(422, 'the body must be an object {"reports": [...]}')
    items: list[Any] = data["reports"]
    _check_size(items, "reports")
    out = []
    for i, item in enumerate(items):
        where = f"reports[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("tag"), str):
            raise TrackingError(422, f"{where}.tag must be a string")
        out.append(_report(item, check_tag_id(item["tag"]), now_us, where))
    return out


def _load(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TrackingError(400, f"the body is not valid JSON: {exc}") from None


def _check_size(items: list[Any], what: str) -> None:
    if not items:
        raise TrackingError(422, f"{what} holds no report")
    if len(items) > MAX_BATCH:
        raise TrackingError(413, f"{what} holds {len(items)} reports; at most {MAX_BATCH}")


def _report(item: Any, tag_id: str, now_us: int, where: str) -> TagReport:
    if not isinstance(item, dict):
        raise TrackingError(422, f"{where} must be a JSON object")
    unknown = set(item) - {"tag", "t", "scan", "position"}
    if unknown:
        raise TrackingError(422, f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    t_us = _time(item.get("t"), now_us, f"{where}.t")
    has_scan, has_position = "scan" in item, "position" in item
    if has_scan == has_position:
        raise TrackingError(422, f"{where} must carry exactly one of 'scan' or 'position'")
    if has_scan:
        return TagReport(tag_id, t_us, scan=_scan(item["scan"], f"{where}.scan"))
    return TagReport(tag_id, t_us, fix=_position(item["position"], f"{where}.position"))


def _time(value: Any, now_us: int, where: str) -> int:
    if value is None:
        return now_us
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise TrackingError(422, f"{where}: {value[:40]!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            raise TrackingError(422, f"{where}: the time must carry its UTC offset")
        t_us = round(parsed.timestamp() * 1_000_000)
    else:
        t_us = round(_number(value, where) * 1_000_000)
    if t_us > now_us + FUTURE_SLACK_US:
        raise TrackingError(422, f"{where} is more than 5 minutes in the future")
    if t_us < now_us - MAX_AGE_US:
        raise TrackingError(422, f"{where} is more than 30 days old")
    return t_us


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrackingError(422, f"{where} must be a number")
    return float(value)


def _scan(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise TrackingError(422, f"{where} must be a non-empty object {{access point: dBm}}")
    if len(value) > MAX_SCAN_ENTRIES:
        raise TrackingError(422, f"{where} has {len(value)} entries; at most {MAX_SCAN_ENTRIES}")
    scan = {}
    for ap, rssi in value.items():
        if not _AP_ID.match(ap):
            raise TrackingError(422, f"{where}: {ap[:80]!r} is not a valid access point id")
        dbm = _number(rssi, f"{where}[{ap!r}]")
        if not RSSI_MIN_DBM <= dbm <= RSSI_MAX_DBM:
            raise TrackingError(
                422,
                f"{where}[{ap!r}]: RSSI {dbm:g} dBm is out of range "
                f"({RSSI_MIN_DBM:g} to {RSSI_MAX_DBM:g})",
            )
        scan[ap] = dbm
    return scan


def _position(value: Any, where: str) -> Fix:
    if not isinstance(value, dict):
        raise TrackingError(422, f"{where} must be an object")
    missing = {"building", "level", "x", "y", "uncertainty_m"} - set(value)
    if missing:
        raise TrackingError(422, f"{where} lacks {', '.join(sorted(missing))}")
    building = value["building"]
    if isinstance(building, bool) or not isinstance(building, str | int):
        raise TrackingError(422, f"{where}.building must be a string or an integer")
    if not 1 <= len(str(building)) <= 32:
        raise TrackingError(422, f"{where}.building must be 1 to 32 characters long")
    level = value["level"]
    if isinstance(level, bool) or not isinstance(level, int) or not -20 <= level <= 200:
        raise TrackingError(422, f"{where}.level must be an integer between -20 and 200")
    uncertainty = _number(value["uncertainty_m"], f"{where}.uncertainty_m")
    if uncertainty < 0:
        raise TrackingError(422, f"{where}.uncertainty_m must not be negative")
    place = Place(
        str(building), level, _number(value["x"], f"{where}.x"), _number(value["y"], f"{where}.y")
    )
    return Fix(place, uncertainty, from_scan=False)
