"""The body of ``POST /api/location/locate`` to checked scans: ``{"scan": {ap: dBm}}`` for one
scan, or ``{"scans": [{ap: dBm}, ...]}`` for several. Every error names the offending part."""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

MAX_BODY_BYTES = 1024 * 1024
MAX_SCANS = 100
MAX_APS_PER_SCAN = 1024
RSSI_MIN_DBM, RSSI_MAX_DBM = -120.0, 0.0
_AP_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


class LocateError(Exception):
    """A locate request refused, with the HTTP status it maps to."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_locate_body(body: bytes) -> tuple[list[dict[str, float]], bool]:
    """The scans, and whether the body held a single ``scan`` (rather than ``scans``)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise LocateError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or len(data) != 1 or not {"scan", "scans"} & set(data):
        raise LocateError(422, 'the body must be {"scan": {...}} or {"scans": [{...}, ...]}')
    if "scan" in data:
        return [_scan(data["scan"], "scan")], True
    scans = data["scans"]
    if not isinstance(scans, list) or not 1 <= len(scans) <= MAX_SCANS:
        raise LocateError(422, f"scans must be a list of 1 to {MAX_SCANS} scans")
    return [_scan(scan, f"scans[{i}]") for i, scan in enumerate(scans)], False


def _scan(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise LocateError(422, f"{where} must be an object {{access point: dBm}}")
    if not value:
        raise LocateError(422, f"{where} is empty: it must name at least one access point")
    if len(value) > MAX_APS_PER_SCAN:
        raise LocateError(
            422, f"{where} has {len(value)} access points; at most {MAX_APS_PER_SCAN}"
        )
    scan = {}
    for ap, rssi in value.items():
        if not _AP_ID.match(ap):
            raise LocateError(
                422,
                f"{where}: {ap[:80]!r} is not a valid access point id "
                "(1 to 64 of A-Z a-z 0-9 . _ : -)",
            )
        if isinstance(rssi, bool) or not isinstance(rssi, int | float) or not math.isfinite(rssi):
            raise LocateError(422, f"{where}[{ap!r}] must be a number (dBm)")
        if not RSSI_MIN_DBM <= rssi <= RSSI_MAX_DBM:
            raise LocateError(
                422,
                f"{where}[{ap!r}]: RSSI {rssi:g} dBm is out of range "
                f"({RSSI_MIN_DBM:g} to {RSSI_MAX_DBM:g})",
            )
        scan[ap] = float(rssi)
    return scan
