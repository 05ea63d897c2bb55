"""Accuracy of a positioner against fingerprints with known positions."""

from __future__ import annotations

import time

import numpy as np

from hygie.location.positioning.engine import Positioner
from hygie.location.positioning.radio_map import RadioMap, RadioMapError


def evaluate(positioner: Positioner, test: RadioMap) -> dict[str, float | int]:
    """Horizontal error (map units, metres), building/level hit rates and time per fix.

    Test scans that hear no access point of the radio map cannot be located; they are left
    out of the figures and counted in ``unlocatable``.
    """
    locatable = positioner.can_locate(test.rssi, test.ap_ids)
    unlocatable = int((~locatable).sum())
    test = test.subset(locatable)
    if len(test) == 0:
        raise RadioMapError("no test scan hears an access point of the radio map")
    started = time.perf_counter()
    fixes = positioner.locate_many(test.rssi, test.ap_ids)
    elapsed = time.perf_counter() - started
    error = np.hypot([f.x for f in fixes] - test.x, [f.y for f in fixes] - test.y)
    building_hit = np.array([f.building == b for f, b in zip(fixes, test.building, strict=True)])
    level_hit = building_hit & (np.array([f.level for f in fixes]) == test.level)
    within = error <= np.array([f.uncertainty_m for f in fixes])
    return {
        "n": len(fixes),
        "mean_error_m": round(float(error.mean()), 3),
        "median_error_m": round(float(np.median(error)), 3),
        "p75_error_m": round(float(np.percentile(error, 75)), 3),
        "p95_error_m": round(float(np.percentile(error, 95)), 3),
        "building_hit": round(float(building_hit.mean()), 5),
        "floor_hit": round(float(level_hit.mean()), 5),
        "within_uncertainty": round(float(within.mean()), 4),
        "ms_per_fix": round(elapsed * 1e3 / len(fixes), 4),
        "unlocatable": unlocatable,
    }
