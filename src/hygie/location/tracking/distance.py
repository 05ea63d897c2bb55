"""How far an asset is from a place: a plug-in, so that walking routes can replace the default.

A wayfinding engine plugs in by providing ``distances(origin, targets)`` (one-to-many, so
that one graph search serves every candidate); ``None`` means unreachable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hygie.location.tracking.model import Place


class DistanceModel(Protocol):
    def distances(self, origin: Place, targets: Sequence[Place]) -> list[float | None]: ...


@dataclass(frozen=True, slots=True)
class StraightLine:
    """Straight-line metres, plus a fixed cost per level changed and for changing building."""

    level_change_m: float = 30.0
    building_change_m: float = 200.0

    def distances(self, origin: Place, targets: Sequence[Place]) -> list[float | None]:
        return [self._one(origin, t) for t in targets]

    def _one(self, a: Place, b: Place) -> float:
        flat = math.hypot(a.x - b.x, a.y - b.y)
        levels = abs(a.level - b.level) * self.level_change_m
        building = 0.0 if a.building == b.building else self.building_change_m
        return flat + levels + building
