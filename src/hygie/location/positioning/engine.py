"""WiFi positioning: building, level and coordinates from one scan.

Method (chosen on held-out parts of the UJIIndoorLoc training data, see
bench/tune_positioning.py): Bray-Curtis (Sorensen) dissimilarity between scans, RSSI in the
"powed" representation ((rssi - floor) / -floor) ** power, with several powers:
1. building: weighted vote of the nearest fingerprints over the whole map (power 1.5);
2. level: weighted vote of the nearest fingerprints of that building (power e, so that the
   strong access points, mostly those of the same level, weigh more);
3. coordinates: inverse-distance-weighted mean (steep weights) of the nearest fingerprints of
   that building. Neighbours on another level than the voted one count less but
   are not dropped: neighbouring levels share the same plan, and a wrong level vote would
   otherwise pull the fix far away. The fix is the mean of such estimates in several powed
   representations (powers 1, 1.5 and e), each re-ranking the same nearest candidates: their
   errors partly cancel.
Phones read the same signal several dB apart and the map mixes many phones: each scan is
also tried shifted by a few offsets. The votes read the scan at the one offset that suits
its nearest candidates best; the coordinates compare each candidate at the offset that
suits that candidate, i.e. as if it had been taken with the scan's phone.
A scan costs O(APs heard x fingerprints): only the rows of the heard access points are read.
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

Float32Array = npt.NDArray[np.float32]

# scans located per batch in locate_many: bounds the (scans x fingerprints) distance block
_CHUNK = 256
_POSITION, _LEVEL = 0, 1


@dataclass(frozen=True)
class PositionerConfig:
    k_building: int = 3
    k_level: int = 24
    k_position: int = 8
    weight_power: float = 4.0
    # coordinates: neighbours on another level than the voted one count this much less
    other_level_weight: float = 0.5
    # RSSI at or below floor_dbm counts as not heard
    floor_dbm: float = -105.0
    # powed representation ((rssi - floor_dbm) / -floor_dbm) ** power, for building and
    # coordinates, and for the level
    position_power: float = 1.5
    level_power: float = math.e
    # coordinates are the mean of the kNN estimates in the representation of each of these
    # powers: each re-ranks the same offset-corrected candidates (an ensemble, cheap)
    coordinate_powers: tuple[float, ...] = (1.0, 1.5, math.e)
    # each scan is also tried with its RSSI shifted by these offsets (phones differ), against
    # its nearest offset_candidates fingerprints: the coordinates compare each candidate at
    # the offset that suits it; the votes use the one offset that suits the nearest best
    rssi_offsets_db: tuple[float, ...] = (0.0, -4.0, 4.0, -8.0, 8.0)
    offset_candidates: int = 100
    # uncertainty_m = scale x weighted spread of the neighbours + offset, calibrated on the
    # cross-user holdout so that about 68 % of fixes fall within it
    uncertainty_scale: float = 0.9
    uncertainty_offset_m: float = 2.0

    def __post_init__(self) -> None:
        if min(self.k_building, self.k_level, self.k_position) < 1:
            raise ValueError("k_building, k_level and k_position must be at least 1")
        if self.offset_candidates < self.k_building + self.k_position:
            raise ValueError("offset_candidates must be at least k_building + k_position")
        if not self.coordinate_powers or min(self.coordinate_powers) <= 0:
            raise ValueError("coordinate_powers must list one or more powers, all > 0")
        if not self.rssi_offsets_db or not all(map(math.isfinite, self.rssi_offsets_db)):
            raise ValueError("rssi_offsets_db must list at least one finite offset")
        if not 0 < self.other_level_weight <= 1:
            raise ValueError("other_level_weight must be in (0, 1]")
        if not MIN_RSSI_DBM <= self.floor_dbm < MAX_RSSI_DBM:
            raise ValueError(f"floor_dbm must be in [{MIN_RSSI_DBM:g}, {MAX_RSSI_DBM:g}) dBm")
        positive = (
            self.position_power,
            self.level_power,
            self.weight_power,
            self.uncertainty_scale,
        )
        if min(positive) <= 0:
            raise ValueError("the powers and uncertainty_scale must be > 0")
        if self.position_power not in self.coordinate_powers:
            # its re-measured candidates also choose the offset of the building and level votes
            raise ValueError("coordinate_powers must include position_power")
        if self.uncertainty_offset_m < 0:
            raise ValueError("uncertainty_offset_m must not be negative")


@dataclass(frozen=True)
class Fix:
    """A position estimate; the true position lies within ``uncertainty_m`` about 68 % of times."""

    building: str
    level: int
    x: float
    y: float
    uncertainty_m: float
    level_confidence: float
    aps_used: int


@dataclass(frozen=True)
class _Building:
    """One building's fingerprints (rows of the map) and their RSSI for the level vote."""

    rows: IntArray
    columns: IntArray  # global AP column -> local row in ``level_t`` (-1: never heard here)
    level_t: Float32Array  # (local AP, fingerprint)
    level_sum: Float32Array
    levels: IntArray  # the building's distinct levels
    level_code: IntArray  # per fingerprint, index into ``levels``


class Positioner:
    """Trained once from a radio map (``fit``), then answers scans (``locate``, ``locate_many``)."""

    def __init__(self, config: PositionerConfig | None = None) -> None:
        self.config = config or PositionerConfig()
        self._ap_index: dict[str, int] = {}
        self._ap_ids: tuple[str, ...] = ()
        # (AP, fingerprint): a scan's few heard APs are contiguous rows
        self._position_t: Float32Array = np.empty((0, 0), np.float32)
        self._position_sum: Float32Array = np.empty(0, np.float32)
        # per coordinate power, each fingerprint's sum over APs (Bray-Curtis denominator)
        self._coordinate_sums: Float32Array = np.empty((0, 0), np.float32)
        self._heard_in_map: npt.NDArray[np.bool_] = np.empty(0, np.bool_)
        self._building_code: IntArray = np.empty(0, np.int64)
        self._x: FloatArray = np.empty(0)
        self._y: FloatArray = np.empty(0)
        self._level: IntArray = np.empty(0, np.int64)
        self._buildings: tuple[str, ...] = ()
        self._models: list[_Building] = []

    @classmethod
    def fit(cls, radio_map: RadioMap, config: PositionerConfig | None = None) -> Positioner:
        if len(radio_map) == 0:
            raise RadioMapError("the radio map has no fingerprints")
        self = cls(config)
        heard = ~np.isnan(radio_map.rssi) & (radio_map.rssi > self.config.floor_dbm)
        self._ap_ids = radio_map.ap_ids
        self._ap_index = {ap: j for j, ap in enumerate(radio_map.ap_ids)}
        self._buildings = tuple(sorted(set(radio_map.building)))
        code = {b: i for i, b in enumerate(self._buildings)}
        self._building_code = np.array([code[b] for b in radio_map.building], dtype=np.int64)
        self._x, self._y = radio_map.x.copy(), radio_map.y.copy()
        self._level = radio_map.level.copy()
        signal = self._represent(radio_map.rssi)
        self._position_t = np.ascontiguousarray(signal[_POSITION].T)
        # access points some fingerprint heard above the floor: a scan must hear one of them
        self._heard_in_map = np.asarray(self._position_t.any(axis=1))
        self._position_sum = signal[_POSITION].sum(axis=1)
        unit = self._unit(radio_map.rssi)
        self._coordinate_sums = np.stack(
            [(unit**power).sum(axis=1) for power in self.config.coordinate_powers]
        ).astype(np.float32)
        for b in range(len(self._buildings)):
            rows = np.flatnonzero(self._building_code == b)
            aps = np.flatnonzero(heard[rows].any(axis=0))
            columns = np.full(len(radio_map.ap_ids), -1, np.int64)
            columns[aps] = np.arange(aps.size)
            level_signal = signal[_LEVEL][rows][:, aps]
            levels, level_code = np.unique(radio_map.level[rows], return_inverse=True)
            self._models.append(
                _Building(
                    rows=rows,
                    columns=columns,
                    level_t=np.ascontiguousarray(level_signal.T),
                    level_sum=level_signal.sum(axis=1),
                    levels=levels.astype(np.int64),
                    level_code=level_code.ravel().astype(np.int64),
                )
            )
        return self

    @property
    def ap_ids(self) -> tuple[str, ...]:
        return self._ap_ids

    def locate(self, scan: Mapping[str, float]) -> Fix:
        """Locate one scan {access point id: RSSI dBm}; unknown access points are ignored."""
        row = np.full(len(self._ap_ids), np.nan)
        for ap, value in scan.items():
            rssi = float(value)
            if rssi == NOT_DETECTED_SENTINEL:
                continue
            if not (math.isfinite(rssi) and MIN_RSSI_DBM <= rssi <= MAX_RSSI_DBM):
                raise RadioMapError(f"RSSI of {ap!r} must be in [-120, 0] dBm, got {value!r}")
            j = self._ap_index.get(ap)
            if j is not None:
                row[j] = rssi
        if not self._known(row[None, :]).any():
            raise RadioMapError(
                "the scan hears no access point of the radio map above "
                f"{self.config.floor_dbm:g} dBm: no position can be inferred from it"
            )
        return self.locate_many(row[None, :])[0]

    def locate_many(self, rssi: FloatArray, ap_ids: Sequence[str] | None = None) -> list[Fix]:
        """Locate each row of an RSSI matrix (dBm, NaN = not heard).

        Columns follow ``ap_ids`` (default: this positioner's own AP order, that of the radio
        map); columns for unknown APs are ignored. Rows with no known AP raise RadioMapError.
        """
        matrix = self._aligned(rssi, ap_ids)
        unknown = np.flatnonzero(~self._known(matrix))
        if unknown.size:
            raise RadioMapError(
                f"scan {unknown[0]} hears no access point of the radio map above "
                f"{self.config.floor_dbm:g} dBm: no position can be inferred from it"
            )
        fixes: list[Fix] = []
        for start in range(0, len(matrix), _CHUNK):
            fixes.extend(self._locate_chunk(matrix[start : start + _CHUNK]))
        return fixes

    def can_locate(
        self, rssi: FloatArray, ap_ids: Sequence[str] | None = None
    ) -> npt.NDArray[np.bool_]:
        """Per row of an RSSI matrix (as for locate_many): would it get a fix?"""
        return self._known(self._aligned(rssi, ap_ids))

    def _aligned(self, rssi: FloatArray, ap_ids: Sequence[str] | None) -> FloatArray:
        """The RSSI matrix with this positioner's columns (unknown APs dropped)."""
        matrix = np.atleast_2d(np.asarray(rssi, dtype=np.float64))
        if ap_ids is None:
            if matrix.shape[1] != len(self._ap_ids):
                raise RadioMapError(
                    f"expected {len(self._ap_ids)} RSSI columns, got {matrix.shape[1]}"
                )
            return matrix
        if len(ap_ids) != matrix.shape[1]:
            raise RadioMapError("one access point id is needed per RSSI column")
        known = [(c, self._ap_index[ap]) for c, ap in enumerate(ap_ids) if ap in self._ap_index]
        aligned = np.full((matrix.shape[0], len(self._ap_ids)), np.nan)
        if known:
            src, dst = (list(p) for p in zip(*known, strict=True))
            aligned[:, dst] = matrix[:, src]
        return aligned

    def _known(self, rssi: FloatArray) -> npt.NDArray[np.bool_]:
        """Per scan: does it hear, above the floor, an access point some fingerprint heard?"""
        above = np.nan_to_num(rssi, nan=self.config.floor_dbm) > self.config.floor_dbm
        return np.asarray((above & self._heard_in_map).any(axis=1))

    def _represent(self, rssi: FloatArray) -> Float32Array:
        """(representation, scan, AP): for position then for level; 0 when not heard."""
        unit = self._unit(rssi)
        cfg = self.config
        return np.stack([unit**cfg.position_power, unit**cfg.level_power]).astype(np.float32)

    def _unit(self, rssi: FloatArray) -> FloatArray:
        """RSSI mapped to [0, 1]: 0 at or below floor_dbm (and when not heard), 1 at 0 dBm."""
        floor = self.config.floor_dbm
        shifted = np.clip(np.nan_to_num(rssi, nan=floor) - floor, 0.0, -floor)
        unit: FloatArray = shifted / -floor
        return unit

    def _locate_chunk(self, rssi: FloatArray) -> list[Fix]:
        cfg = self.config
        signal = self._represent(rssi)
        dist = np.empty((signal.shape[1], self._position_sum.size), np.float32)
        for i, scan in enumerate(signal[_POSITION]):
            heard = np.flatnonzero(scan)
            dist[i] = _bray_curtis(self._position_t[heard], self._position_sum, scan[heard])
        # the nearest candidates, re-measured with the scan shifted by each RSSI offset.
        # One partial sort of the whole map then serves the building vote and, nearly always,
        # the coordinates: a building's k nearest are the map's nearest that lie in it, as
        # soon as k of the map's nearest candidates do
        candidates = _nearest(dist, cfg.offset_candidates)
        offset, candidate_dist, rankings = self._match_candidates(
            rssi, signal[_POSITION], candidates
        )
        # the level vote reads the scan with the offset that suits its nearest candidates
        signal[_LEVEL] = self._represent(rssi + offset[:, None])[_LEVEL]
        order = np.argsort(candidate_dist, axis=1, kind="stable")
        k = min(cfg.k_building, candidates.shape[1])
        nearest = order[:, :k]
        building = _shares(
            np.take_along_axis(candidate_dist, nearest, axis=1),
            self._building_code[np.take_along_axis(candidates, nearest, axis=1)],
            len(self._buildings),
        ).argmax(axis=1)
        fixes: list[Fix | None] = [None] * len(dist)
        for b, model in enumerate(self._models):
            scans = np.flatnonzero(building == b)
            if scans.size == 0:
                continue
            neighbours = [
                self._nearest_in(b, model, dist[scans], ranked[scans], ranked_dist[scans])
                for ranked, ranked_dist in rankings
            ]
            located = self._locate_in(b, model, neighbours, signal[:, scans])
            for i, fix in zip(scans.tolist(), located, strict=True):
                fixes[i] = fix
        return [fix for fix in fixes if fix is not None]

    def _match_candidates(
        self, rssi: FloatArray, position: Float32Array, candidates: IntArray
    ) -> tuple[FloatArray, Float32Array, list[tuple[IntArray, Float32Array]]]:
        """Each scan's candidates re-measured with the scan shifted by each RSSI offset.

        Phones read the same signal several dB apart, and the map's fingerprints come from
        many phones. Returns, per scan:
        - the offset whose k_position nearest candidates are nearest on average (the first
          listed on a tie), with the candidates' distances at that offset (power
          position_power): the building and level votes read the scan with it;
        - per coordinate power, the candidates nearest first, each measured at the offset
          that suits it best: a fingerprint is compared as if taken with the scan's phone.
        Only the few candidates are re-measured: their powed RSSI in each representation is
        derived from the stored position representation, so no other copy of the map is kept.
        """
        cfg = self.config
        offsets = np.asarray(cfg.rssi_offsets_db)[:, None]
        k = min(cfg.k_position, candidates.shape[1])
        chosen = np.empty(len(position))
        offset_dist = np.empty(candidates.shape, np.float32)
        ranked_dist = np.empty((len(cfg.coordinate_powers), *candidates.shape), np.float32)
        powers = np.asarray(cfg.coordinate_powers, np.float32)[:, None, None]
        ratios = powers / np.float32(cfg.position_power)
        fitting = cfg.coordinate_powers.index(cfg.position_power)
        for i, scan in enumerate(position):
            heard = np.flatnonzero(scan)
            shifted = self._unit(rssi[i, heard] + offsets).astype(np.float32)
            rows_t = self._position_t[np.ix_(heard, candidates[i])]
            # (power, offset, candidate)
            dist = _bray_curtis_shifted(
                rows_t[None] ** ratios, self._coordinate_sums[:, candidates[i]], shifted**powers
            )
            ranked_dist[:, i] = dist.min(axis=1)
            fit = np.partition(dist[fitting], k - 1, axis=1)[:, :k].mean(axis=1)
            winner = int(np.argmin(fit))
            offset_dist[i], chosen[i] = dist[fitting, winner], cfg.rssi_offsets_db[winner]
        rankings = []
        for dist in ranked_dist:
            order = np.argsort(dist, axis=1, kind="stable")
            rankings.append(
                (
                    np.take_along_axis(candidates, order, axis=1),
                    np.take_along_axis(dist, order, axis=1),
                )
            )
        return chosen, offset_dist, rankings

    def _nearest_in(
        self,
        b: int,
        model: _Building,
        dist: Float32Array,
        candidates: IntArray,
        candidate_dist: Float32Array,
    ) -> tuple[IntArray, Float32Array]:
        """Map rows and distances of the k_position nearest fingerprints of building ``b``.

        ``candidates`` are sorted nearest first; scans with fewer than k of them in the
        building fall back on their whole-building distances ``dist`` (without offset).
        """
        k = min(self.config.k_position, model.rows.size)
        in_building = self._building_code[candidates] == b
        # stable sort of "not in building" keeps the candidates of b first, nearest first
        first = np.argsort(~in_building, axis=1, kind="stable")[:, :k]
        near = np.take_along_axis(candidates, first, axis=1)
        near_dist = np.take_along_axis(candidate_dist, first, axis=1)
        short = np.flatnonzero(in_building.sum(axis=1) < k)
        if short.size:
            building_dist = dist[short][:, model.rows]
            local = _nearest(building_dist, k)
            near[short] = model.rows[local]
            near_dist[short] = np.take_along_axis(building_dist, local, axis=1)
        return near, near_dist

    def _locate_in(
        self,
        b: int,
        model: _Building,
        neighbours: list[tuple[IntArray, Float32Array]],
        signal: Float32Array,
    ) -> list[Fix]:
        """Level and coordinates of scans in building ``b``, given their nearest fingerprints
        in each coordinate representation."""
        cfg = self.config
        level_dist = np.empty((signal.shape[1], model.rows.size), np.float32)
        for i, scan in enumerate(signal[_LEVEL]):
            heard = np.flatnonzero(scan)
            local = model.columns[heard]
            # the APs this building never heard add to the scan's total only
            level_dist[i] = _bray_curtis(
                model.level_t[local[local >= 0]],
                model.level_sum,
                scan[heard[local >= 0]],
                scan_total=float(scan[heard].sum()),
            )
        level_near = _nearest(level_dist, cfg.k_level)
        level_share = _shares(
            np.take_along_axis(level_dist, level_near, axis=1),
            model.level_code[level_near],
            model.levels.size,
        )
        level = level_share.argmax(axis=1)
        # one inverse-distance-weighted estimate per representation; the fix is their mean
        estimates = [
            self._weighted(near, near_dist, model.levels[level]) for near, near_dist in neighbours
        ]
        x = np.mean([e[0] for e in estimates], axis=0)
        y = np.mean([e[1] for e in estimates], axis=0)
        # spread of all the neighbours around the fix
        spread = np.sqrt(
            np.mean([e[2] + (e[0] - x) ** 2 + (e[1] - y) ** 2 for e in estimates], axis=0)
        )
        uncertainty = cfg.uncertainty_scale * spread + cfg.uncertainty_offset_m
        aps_used = (signal[_POSITION] > 0).sum(axis=1)
        return [
            Fix(
                building=self._buildings[b],
                level=int(model.levels[level[i]]),
                x=float(x[i]),
                y=float(y[i]),
                uncertainty_m=float(uncertainty[i]),
                level_confidence=float(level_share[i, level[i]]),
                aps_used=int(aps_used[i]),
            )
            for i in range(x.size)
        ]

    def _weighted(
        self, near: IntArray, near_dist: Float32Array, level: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """x, y and weighted squared spread of the neighbours; other levels count less."""
        cfg = self.config
        weights = 1.0 / (near_dist.astype(np.float64) + 1e-6) ** cfg.weight_power
        weights *= np.where(level[:, None] == self._level[near], 1.0, cfg.other_level_weight)
        weights /= weights.sum(axis=1, keepdims=True)
        xs, ys = self._x[near], self._y[near]
        x, y = (weights * xs).sum(axis=1), (weights * ys).sum(axis=1)
        spread2 = (weights * ((xs - x[:, None]) ** 2 + (ys - y[:, None]) ** 2)).sum(axis=1)
        return x, y, spread2


def _bray_curtis(
    rows_t: Float32Array,
    rows_sum: Float32Array,
    values: Float32Array,
    scan_total: float | None = None,
) -> Float32Array:
    """Bray-Curtis dissimilarity of one scan to every fingerprint.

    sum|q - r| / sum(q + r) = 1 - 2 sum min(q, r) / sum(q + r), where min(q, r) = 0 wherever
    the scan heard nothing: only the (heard AP, fingerprint) rows ``rows_t`` are read.
    """
    shared = np.minimum(rows_t, values[:, None]).sum(axis=0)
    total = (values.sum() if scan_total is None else scan_total) + rows_sum
    # a scan and a fingerprint that both hear nothing (at or below floor_dbm) are unlike
    result: Float32Array = 1.0 - 2.0 * shared / np.maximum(total, np.float32(1e-12))
    return result


def _bray_curtis_shifted(
    rows_t: Float32Array, rows_sum: Float32Array, shifted: Float32Array
) -> Float32Array:
    """(power, offset, fingerprint) Bray-Curtis dissimilarities of a scan shifted by each offset.

    Per power: ``shifted`` holds one row per offset over the scan's heard APs, ``rows_t`` the
    fingerprints' values of those APs (AP, fingerprint) and ``rows_sum`` their totals.
    """
    shared = np.minimum(rows_t[:, None, :, :], shifted[:, :, :, None]).sum(axis=2)
    total = shifted.sum(axis=2)[:, :, None] + rows_sum[:, None, :]
    # a fingerprint and a shifted scan that both hear nothing are simply unlike
    result: Float32Array = 1.0 - 2.0 * shared / np.maximum(total, np.float32(1e-12))
    return result


def _nearest(dist: Float32Array, k: int) -> IntArray:
    """Per row, the columns of the k smallest distances (unordered)."""
    k = min(k, dist.shape[1])
    return np.argpartition(dist, k - 1, axis=1)[:, :k].astype(np.int64)


def _shares(near_dist: Float32Array, near_labels: IntArray, n_labels: int) -> FloatArray:
    """Per row, each label's share of the inverse-distance weights of the given neighbours."""
    weights = 1.0 / (near_dist.astype(np.float64) + 1e-6)
    tally = np.zeros((near_dist.shape[0], n_labels))
    np.add.at(tally, (np.arange(near_dist.shape[0])[:, None], near_labels), weights)
    share: FloatArray = tally / tally.sum(axis=1, keepdims=True)
    return share
