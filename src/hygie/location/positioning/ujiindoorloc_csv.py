"""Read fingerprints from CSV files in the UJIIndoorLoc layout (plain or gzip-compressed).

Layout: a header line, one ``WAPnnn``-style column per access point (RSSI in dBm, 100 meaning
"not detected"), then LONGITUDE and LATITUDE (projected metres), FLOOR and BUILDINGID. Other
columns (SPACEID, USERID, PHONEID, ...) are allowed and ignored.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

from hygie.location.positioning.radio_map import FloatArray, RadioMap, RadioMapError

NOT_DETECTED = 100.0
POSITION_COLUMNS = ("LONGITUDE", "LATITUDE", "FLOOR", "BUILDINGID")
AP_COLUMN_PREFIX = "WAP"


def read_radio_map(path: Path) -> RadioMap:
    """Parse one file; raise RadioMapError with a one-line reason if it is not usable."""
    try:
        raw = path.read_bytes()
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        return parse_radio_map(text.decode("utf-8-sig"), source=path.name)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise RadioMapError(f"{path}: cannot read file ({exc})") from None


def parse_radio_map(text: str, source: str = "<text>") -> RadioMap:
    """Parse CSV text in the UJIIndoorLoc layout."""
    header_line, _, body = text.partition("\n")
    header = [name.strip().strip('"') for name in header_line.strip().split(",")]
    if not header_line.strip():
        raise RadioMapError(f"{source}: empty file (no header line)")
    missing = [c for c in POSITION_COLUMNS if c not in header]
    if missing:
        raise RadioMapError(f"{source}: missing column(s) {', '.join(missing)}")
    ap_columns = [i for i, name in enumerate(header) if name.startswith(AP_COLUMN_PREFIX)]
    if not ap_columns:
        raise RadioMapError(f"{source}: no access point column (names starting with 'WAP')")
    wanted = ap_columns + [header.index(c) for c in POSITION_COLUMNS]
    if not body.strip():
        raise RadioMapError(f"{source}: no fingerprint rows after the header")
    table = _numeric_table(body, len(header), wanted, source)
    rssi = table[:, : len(ap_columns)]
    lon, lat, floor, building = table[:, len(ap_columns) :].T
    for name, column in (("FLOOR", floor), ("BUILDINGID", building)):
        if not np.array_equal(column, np.round(column)):
            raise RadioMapError(f"{source}: {name} must hold whole numbers")
    rssi = np.where(rssi == NOT_DETECTED, np.nan, rssi)
    try:
        return RadioMap.from_fingerprints(
            ap_ids=[header[i] for i in ap_columns],
            rssi=rssi,
            x=lon,
            y=lat,
            building=[str(int(b)) for b in building],
            level=floor.astype(np.int64),
        )
    except RadioMapError as exc:
        raise RadioMapError(f"{source}: {exc}") from None


def _numeric_table(body: str, n_columns: int, wanted: list[int], source: str) -> FloatArray:
    try:
        table = np.loadtxt(
            io.StringIO(body), delimiter=",", usecols=wanted, ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        # numpy's message names the offending value and row; keep only its first line
        reason = str(exc).splitlines()[0] if str(exc) else "malformed row"
        raise RadioMapError(f"{source}: {reason}") from None
    if table.size and not np.isfinite(table).all():
        raise RadioMapError(f"{source}: non-finite number (nan/inf) in the data")
    _check_row_widths(body, n_columns, source)
    return table


def _check_row_widths(body: str, n_columns: int, source: str) -> None:
    for line_no, line in enumerate(body.splitlines(), start=2):
        if line.strip() and line.count(",") + 1 != n_columns:
            raise RadioMapError(
                f"{source}: line {line_no} has {line.count(',') + 1} fields, header has {n_columns}"
            )
