"""Radio map use cases: import a survey file, describe the stored map, load it for training."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygie.db.engine import Database
from hygie.location.positioning import RadioMap, RadioMapError, read_radio_map
from hygie.location.radiomap import storage

MAX_AP_ID_LENGTH = 64
MAX_BUILDING_LENGTH = 32
MAX_SOURCE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ImportResult:
    version: int
    source: str
    fingerprints: int
    access_points: int
    replaced: bool


def import_radio_map(
    database: Database,
    path: Path,
    *,
    replace: bool = False,
    source: str | None = None,
    clock: Callable[[], float] = time.time,
) -> ImportResult:
    """Add the fingerprints of a UJIIndoorLoc-layout CSV(.gz) to the stored map, or replace
    the whole map with them. Raises RadioMapError (one line) and stores nothing on error."""
    label = path.name if source is None else source
    radio_map = read_radio_map(path)
    _check_storable(radio_map, label, path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with database.write() as conn:
        if replace:
            storage.clear(conn)
        else:
            same = [i for i in storage.imports(conn) if i.sha256 == digest]
            if same:
                raise RadioMapError(
                    f"{path.name}: this file is already in the radio map "
                    f"(import {same[0].seq}, {same[0].source!r}); use --replace to start over"
                )
        seq = storage.add(
            conn,
            radio_map,
            source=label,
            sha256=digest,
            imported_at_us=round(clock() * 1_000_000),
        )
    heard = int((~np.isnan(radio_map.rssi)).any(axis=0).sum())
    return ImportResult(seq, label, len(radio_map), heard, replace)


def load_radio_map(database: Database) -> tuple[int, RadioMap] | None:
    """The stored map and its version, or None when nothing is imported."""
    with database.read() as conn:
        return storage.load(conn)


def radio_map_version(database: Database) -> int | None:
    with database.read() as conn:
        return storage.version(conn)


def radio_map_info(database: Database) -> dict[str, Any]:
    """What an operator checks after an import: the imports, the access points, and per
    building and level the fingerprints, distinct survey points and access points heard."""
    with database.read() as conn:
        loaded = storage.load(conn)
        imports = storage.imports(conn)
    if loaded is None:
        return {"version": None, "fingerprints": 0, "access_points": 0, "imports": [], "levels": []}
    version, radio_map = loaded
    heard = ~np.isnan(radio_map.rssi)
    building = np.array(radio_map.building)
    levels = []
    for b, level in sorted({(b, int(lv)) for b, lv in zip(building, radio_map.level, strict=True)}):
        rows = (building == b) & (radio_map.level == level)
        points = np.unique(np.column_stack((radio_map.x[rows], radio_map.y[rows])), axis=0)
        levels.append(
            {
                "building": str(b),
                "level": level,
                "fingerprints": int(rows.sum()),
                "survey_points": len(points),
                "access_points_heard": int(heard[rows].any(axis=0).sum()),
            }
        )
    return {
        "version": version,
        "fingerprints": len(radio_map),
        "access_points": len(radio_map.ap_ids),
        "access_points_heard": int(heard.any(axis=0).sum()),
        "imports": [
            {"import": i.seq, "source": i.source, "fingerprints": i.fingerprints} for i in imports
        ],
        "levels": levels,
    }


def _check_storable(radio_map: RadioMap, label: str, name: str) -> None:
    if not 1 <= len(label) <= MAX_SOURCE_LENGTH:
        raise RadioMapError(f"the source label must be 1 to {MAX_SOURCE_LENGTH} characters long")
    long_ap = next((ap for ap in radio_map.ap_ids if len(ap) > MAX_AP_ID_LENGTH), None)
    if long_ap is not None:
        raise RadioMapError(
            f"{name}: access point id {long_ap[:80]!r} is longer than {MAX_AP_ID_LENGTH} characters"
        )
    long_building = next((b for b in radio_map.building if len(b) > MAX_BUILDING_LENGTH), None)
    if long_building is not None:
        raise RadioMapError(f"{name}: building {long_building[:80]!r} is too long")
    if radio_map.level.size and not (-20 <= radio_map.level.min() <= radio_map.level.max() <= 200):
        raise RadioMapError(f"{name}: FLOOR must lie between -20 and 200")
