"""Vectorised point-in-polygon with a margin band, for many points against many zones.

Each point is classed against each zone of its level as clearly inside (+1), clearly
outside (-1) or within ``margin_m`` of the edge (0), where a noisy fix proves nothing.
The zones of a level are packed as one array of edges, so a batch of points costs a few
numpy operations per chunk rather than a Python loop per point and zone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hygie.location.tracking.model import Zone

INSIDE, BAND, OUTSIDE = 1, 0, -1
_CHUNK = 1024  # points per numpy pass: bounds the (points x edges) temporaries

FloatArray = npt.NDArray[np.float64]


class LevelZones:
    """The zones of one (building, level), edges packed zone after zone."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        self.zone_ids = [z.id for z in zones]
        ax: list[float] = []
        ay: list[float] = []
        bx: list[float] = []
        by: list[float] = []
        starts: list[int] = []
        for zone in zones:
            starts.append(len(ax))
            ring = zone.polygon
            for i, (x0, y0) in enumerate(ring):
                x1, y1 = ring[(i + 1) % len(ring)]
                ax.append(x0)
                ay.append(y0)
                bx.append(x1)
                by.append(y1)
        self._ax, self._ay = np.array(ax), np.array(ay)
        self._dx, self._dy = np.array(bx) - self._ax, np.array(by) - self._ay
        self._by = np.array(by)
        self._len2 = np.where(self._dx**2 + self._dy**2 == 0, 1.0, self._dx**2 + self._dy**2)
        self._dy_safe = np.where(self._dy == 0, 1.0, self._dy)
        self._starts = np.array(starts, dtype=np.intp)
        self._margin2 = np.array([z.margin_m**2 for z in zones])

    def classify(self, xs: FloatArray, ys: FloatArray) -> npt.NDArray[np.int8]:
        """A (points x zones) matrix of INSIDE, BAND or OUTSIDE."""
        out = np.empty((len(xs), len(self.zone_ids)), dtype=np.int8)
        for lo in range(0, len(xs), _CHUNK):
            out[lo : lo + _CHUNK] = self._classify_chunk(xs[lo : lo + _CHUNK], ys[lo : lo + _CHUNK])
        return out

    def _classify_chunk(self, xs: FloatArray, ys: FloatArray) -> npt.NDArray[np.int8]:
        px, py = xs[:, None], ys[:, None]
        rx, ry = px - self._ax, py - self._ay
        # Crossing number: edges that straddle the point's horizontal line to its right.
        straddles = (self._ay > py) != (self._by > py)
        crosses = straddles & (rx < self._dx * ry / self._dy_safe)
        inside = np.add.reduceat(crosses.astype(np.int32), self._starts, axis=1) % 2 == 1
        # Squared distance to the nearest edge, for the margin band.
        t = np.clip((rx * self._dx + ry * self._dy) / self._len2, 0.0, 1.0)
        d2 = (rx - t * self._dx) ** 2 + (ry - t * self._dy) ** 2
        near = np.minimum.reduceat(d2, self._starts, axis=1) < self._margin2
        return np.where(near, BAND, np.where(inside, INSIDE, OUTSIDE)).astype(np.int8)


class ZoneIndex:
    """Every zone, grouped by (building, level)."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        self.zones = {z.id: z for z in zones}
        grouped: dict[tuple[str, int], list[Zone]] = {}
        for zone in zones:
            grouped.setdefault((zone.building, zone.level), []).append(zone)
        self.levels = {key: LevelZones(group) for key, group in grouped.items()}
