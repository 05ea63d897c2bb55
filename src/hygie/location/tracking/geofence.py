"""Geofence evaluation with hysteresis: enter and leave only on evidence that lasts.

An asset's membership of a zone flips only after ``fixes`` consecutive fixes on the other
side, or the other side held for ``seconds`` without a break; a fix in the zone's margin
band, or back on the current side, breaks the run. Noise along an edge therefore does not
flap, and a real crossing gives exactly one event.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hygie.location.tracking.geometry import BAND, INSIDE, OUTSIDE, ZoneIndex
from hygie.location.tracking.model import Place, Zone


@dataclass(frozen=True, slots=True)
class Debounce:
    enter_fixes: int = 3
    enter_seconds: float = 15.0
    leave_fixes: int = 3
    leave_seconds: float = 15.0


@dataclass(slots=True)
class _Streak:
    count: int
    since_us: int


@dataclass(slots=True)
class FenceState:
    """One asset's confirmed zones and the flips it is gathering evidence for."""

    inside: set[str] = field(default_factory=set)
    streaks: dict[str, _Streak] = field(default_factory=dict)

    def copy(self) -> FenceState:
        return FenceState(
            set(self.inside), {z: _Streak(s.count, s.since_us) for z, s in self.streaks.items()}
        )


@dataclass(frozen=True, slots=True)
class Crossing:
    asset_seq: int
    t_us: int
    zone_id: str
    kind: Literal["enter", "leave"]


@dataclass(frozen=True, slots=True)
class LocatedFix:
    asset_seq: int
    t_us: int
    place: Place


class GeofenceEngine:
    """Turns time-ordered fixes into debounced crossings, updating the states it is given."""

    def __init__(self, zones: Iterable[Zone], debounce: Debounce) -> None:
        self.index = ZoneIndex(list(zones))
        self.debounce = debounce

    def evaluate(
        self, fixes: Sequence[LocatedFix], states: MutableMapping[int, FenceState]
    ) -> list[Crossing]:
        """Crossings in fix order; ``fixes`` must be time-ordered for each asset."""
        observed = self._observe(fixes)
        crossings: list[Crossing] = []
        for fix, (zone_ids, row, clearly_in) in zip(fixes, observed, strict=True):
            state = states.get(fix.asset_seq)
            if state is None:
                if not clearly_in:
                    continue
                state = states[fix.asset_seq] = FenceState()
            candidates = set(clearly_in) | state.inside | state.streaks.keys()
            # A deterministic order, leaves first: at one instant an asset leaves a zone
            # before it enters the next (set order would vary from run to run).
            for zone_id in sorted(candidates, key=lambda z: (z not in state.inside, z)):
                column = zone_ids.get(zone_id)
                seen = OUTSIDE if column is None else int(row[column])
                kind = self._step(state, zone_id, seen, fix.t_us)
                if kind is not None:
                    crossings.append(Crossing(fix.asset_seq, fix.t_us, zone_id, kind))
        return crossings

    def _observe(
        self, fixes: Sequence[LocatedFix]
    ) -> list[tuple[dict[str, int], np.ndarray, list[str]]]:
        """For each fix: its level's zone columns, its class row, the zones it is clearly in."""
        empty: tuple[dict[str, int], np.ndarray, list[str]] = ({}, np.empty(0, np.int8), [])
        out = [empty] * len(fixes)
        by_level: dict[tuple[str, int], list[int]] = {}
        for i, fix in enumerate(fixes):
            by_level.setdefault((fix.place.building, fix.place.level), []).append(i)
        for key, positions in by_level.items():
            level = self.index.levels.get(key)
            if level is None:
                continue
            xs = np.fromiter((fixes[i].place.x for i in positions), np.float64, len(positions))
            ys = np.fromiter((fixes[i].place.y for i in positions), np.float64, len(positions))
            matrix = level.classify(xs, ys)
            columns = {zone_id: c for c, zone_id in enumerate(level.zone_ids)}
            clearly_in: list[list[str]] = [[] for _ in positions]
            for r, c in zip(*np.nonzero(matrix == INSIDE), strict=True):
                clearly_in[r].append(level.zone_ids[c])
            for r, i in enumerate(positions):
                out[i] = (columns, matrix[r], clearly_in[r])
        return out

    def _step(
        self, state: FenceState, zone_id: str, seen: int, t_us: int
    ) -> Literal["enter", "leave"] | None:
        inside = zone_id in state.inside
        if seen == BAND or (seen == INSIDE) == inside:
            state.streaks.pop(zone_id, None)  # the evidence for a flip must be unbroken
            return None
        streak = state.streaks.get(zone_id)
        if streak is None:
            streak = state.streaks[zone_id] = _Streak(0, t_us)
        streak.count += 1
        fixes, seconds = (
            (self.debounce.leave_fixes, self.debounce.leave_seconds)
            if inside
            else (self.debounce.enter_fixes, self.debounce.enter_seconds)
        )
        if streak.count < fixes and t_us - streak.since_us < seconds * 1e6:
            return None
        del state.streaks[zone_id]
        if inside:
            state.inside.discard(zone_id)
            return "leave"
        state.inside.add(zone_id)
        return "enter"
