"""WiFi positioning: building, level and coordinates from one scan.

Method (chosen by cross-user validation on the UJIIndoorLoc training data, see
bench/bench_positioning.py): RSSI in the "exponential" representation, Bray-Curtis
(Sorensen) dissimilarity between scans, then
1. building: weighted vote of the nearest fingerprints over the whole map;
2. level: weighted vote of the nearest fingerprints of that building;
3. coordinates: inverse-distance-weighted mean (steep weights) of the nearest fingerprints
   of that building, without restricting to the voted level, since neighbouring levels share
   the same plan and a wrong level vote would otherwise pull the fix far away.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hygie.location.positioning.radio_map import (
    MAX_RSSI_DBM,
    MIN_RSSI_DBM,
    FloatArray,
    IntArray,
    RadioMap,
    RadioMapError,
)

# The UJIIndoorLoc convention for "not heard"; accepted in scans and treated as absent.
NOT_DETECTED_SENTINEL = 100.0


@dataclass(frozen=True)
class PositionerConfig:
    k_building: int = 3
    k_level: int = 8
    k_position: int = 8
    weight_power: float = 4.0
    # exponential representation: exp((rssi - floor_dbm) / scale_db), 0 when not heard
    floor_dbm: float = -105.0
    scale_db: float = 24.0


@dataclass(frozen=True)
class Fix:
    """A position estimate. ``uncertainty_m`` is the weighted spread of the neighbours used."""

    building: str
    level: int
    x: float
    y: float
    uncertainty_m: float
    level_confidence: float
    aps_used: int


class Positioner:
    """Trained once from a radio map (``fit``), then answers scans (``locate``, ``locate_many``)."""

    def __init__(self, config: PositionerConfig | None = None) -> None:
        self.config = config or PositionerConfig()
        self._ap_index: dict[str, int] = {}
        self._ap_ids: tuple[str, ...] = ()
        # transposed (access point, fingerprint) so that one scan's few heard APs are
        # contiguous rows: the distance costs O(APs heard x fingerprints), not O(all APs)
        self._signal_t: npt.NDArray[np.float32] = np.empty((0, 0), np.float32)
        self._signal_sum: npt.NDArray[np.float32] = np.empty(0, np.float32)
        self._x: FloatArray = np.empty(0)
        self._y: FloatArray = np.empty(0)
        self._buildings: tuple[str, ...] = ()
        self._building_code: IntArray = np.empty(0, np.int64)
        self._building_rows: list[IntArray] = []
        self._level: IntArray = np.empty(0, np.int64)

    @classmethod
    def fit(cls, radio_map: RadioMap, config: PositionerConfig | None = None) -> Positioner:
        if len(radio_map) == 0:
            raise RadioMapError("the radio map has no fingerprints")
        self = cls(config)
        self._ap_ids = radio_map.ap_ids
        self._ap_index = {ap: j for j, ap in enumerate(radio_map.ap_ids)}
        signal = self._represent(radio_map.rssi).astype(np.float32)
        self._signal_t = np.ascontiguousarray(signal.T)
        self._signal_sum = signal.sum(axis=1)
        self._x, self._y = radio_map.x.copy(), radio_map.y.copy()
        self._buildings = tuple(sorted(set(radio_map.building)))
        code = {b: i for i, b in enumerate(self._buildings)}
        self._building_code = np.array([code[b] for b in radio_map.building], dtype=np.int64)
        self._building_rows = [
            np.flatnonzero(self._building_code == i) for i in range(len(self._buildings))
        ]
        self._level = radio_map.level.copy()
        return self

    @property
    def ap_ids(self) -> tuple[str, ...]:
        return self._ap_ids

    def locate(self, scan: Mapping[str, float]) -> Fix:
        """Locate one scan {access point id: RSSI dBm}; unknown access points are ignored."""
        heard: dict[int, float] = {}
        for ap, value in scan.items():
            rssi = float(value)
            if rssi == NOT_DETECTED_SENTINEL:
                continue
            if not (math.isfinite(rssi) and MIN_RSSI_DBM <= rssi <= MAX_RSSI_DBM):
                raise RadioMapError(f"RSSI of {ap!r} must be in [-120, 0] dBm, got {value!r}")
            j = self._ap_index.get(ap)
            if j is not None:
                heard[j] = rssi
        if not heard:
            raise RadioMapError("the scan has no access point known to the radio map")
        columns = np.fromiter(heard.keys(), dtype=np.int64)
        values = self._represent(np.fromiter(heard.values(), dtype=np.float64))
        return self._locate_heard(columns, values.astype(np.float32))

    def locate_many(self, rssi: FloatArray, ap_ids: Sequence[str] | None = None) -> list[Fix]:
        """Locate each row of an RSSI matrix (dBm, NaN = not heard).

        Columns follow ``ap_ids`` (default: this positioner's own AP order); columns for
        unknown APs are ignored. Rows with no known AP raise RadioMapError.
        """
        matrix = np.atleast_2d(np.asarray(rssi, dtype=np.float64))
        if ap_ids is not None:
            if len(ap_ids) != matrix.shape[1]:
                raise RadioMapError("one access point id is needed per RSSI column")
            known = [(c, self._ap_index[ap]) for c, ap in enumerate(ap_ids) if ap in self._ap_index]
            aligned = np.full((matrix.shape[0], len(self._ap_ids)), np.nan)
            if known:
                src, dst = (list(p) for p in zip(*known, strict=True))
                aligned[:, dst] = matrix[:, src]
            matrix = aligned
        elif matrix.shape[1] != len(self._ap_ids):
            raise RadioMapError(f"expected {len(self._ap_ids)} RSSI columns, got {matrix.shape[1]}")
        signal = self._represent(matrix).astype(np.float32)
        fixes = []
        for row_no, row in enumerate(signal):
            columns = np.flatnonzero(row)
            if columns.size == 0:
                raise RadioMapError(f"scan {row_no} has no access point known to the radio map")
            fixes.append(self._locate_heard(columns, row[columns]))
        return fixes

    def _represent(self, rssi: FloatArray) -> FloatArray:
        cfg = self.config
        shifted = np.clip(np.nan_to_num(rssi, nan=cfg.floor_dbm) - cfg.floor_dbm, 0.0, None)
        value = np.exp(shifted / cfg.scale_db) / math.exp(-cfg.floor_dbm / cfg.scale_db)
        # "not heard" is exactly zero so that sums over heard APs only are exact
        return np.where(np.isnan(rssi), 0.0, value)

    def _dissimilarity(
        self, columns: IntArray, values: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        # Bray-Curtis: sum|q - r| / sum(q + r), with sum|q - r| = sum q + sum r - 2 sum min(q, r)
        # and min(q, r) = 0 wherever the scan q heard nothing.
        shared = np.minimum(self._signal_t[columns], values[:, None]).sum(axis=0)
        total = values.sum() + self._signal_sum
        result: npt.NDArray[np.float32] = (total - 2.0 * shared) / total
        return result

    def _locate_heard(self, columns: IntArray, values: npt.NDArray[np.float32]) -> Fix:
        cfg = self.config
        dist = self._dissimilarity(columns, values)
        building = _weighted_vote(dist, self._building_code, cfg.k_building)
        rows = self._building_rows[building]
        b_dist = dist[rows]
        level = _weighted_vote(b_dist, self._level[rows], cfg.k_level)
        level_weight = _vote_share(b_dist, self._level[rows], cfg.k_level, level)
        near = _nearest(b_dist, cfg.k_position)
        weights = 1.0 / (b_dist[near].astype(np.float64) + 1e-6) ** cfg.weight_power
        weights /= weights.sum()
        xs, ys = self._x[rows[near]], self._y[rows[near]]
        x, y = float(weights @ xs), float(weights @ ys)
        spread = math.sqrt(float(weights @ ((xs - x) ** 2 + (ys - y) ** 2)))
        return Fix(
            building=self._buildings[building],
            level=level,
            x=x,
            y=y,
            uncertainty_m=spread,
            level_confidence=level_weight,
            aps_used=int(columns.size),
        )


def _nearest(dist: npt.NDArray[np.float32], k: int) -> IntArray:
    k = min(k, dist.size)
    return np.argpartition(dist, k - 1)[:k].astype(np.int64)


def _votes(dist: npt.NDArray[np.float32], labels: IntArray, k: int) -> dict[int, float]:
    near = _nearest(dist, k)
    tally: dict[int, float] = {}
    for label, d in zip(labels[near].tolist(), dist[near].tolist(), strict=True):
        tally[label] = tally.get(label, 0.0) + 1.0 / (d + 1e-6)
    return tally


def _weighted_vote(dist: npt.NDArray[np.float32], labels: IntArray, k: int) -> int:
    tally = _votes(dist, labels, k)
    return max(tally, key=lambda label: (tally[label], -label))


def _vote_share(dist: npt.NDArray[np.float32], labels: IntArray, k: int, winner: int) -> float:
    tally = _votes(dist, labels, k)
    return tally.get(winner, 0.0) / sum(tally.values())
