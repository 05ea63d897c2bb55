"""Survey coverage: where the radio map is dense, and where fingerprints are missing."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from hygie.location.positioning.radio_map import FloatArray, RadioMap


@dataclass(frozen=True)
class LevelCoverage:
    building: str
    level: int
    fingerprints: int
    reference_points: int
    aps_heard: int
    grid_cells: int
    gap_cells: int

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


def coverage(radio_map: RadioMap, cell_m: float = 5.0, gap_m: float = 10.0) -> list[LevelCoverage]:
    """Per building and level: counts, and grid cells with no fingerprint within ``gap_m``.

    The grid covers the building's surveyed footprint: cells of ``cell_m`` metres whose centre
    lies within ``gap_m`` of a fingerprint on any level of that building. A gap cell is one of
    those with no fingerprint of *this* level within ``gap_m``.
    """
    if cell_m <= 0 or gap_m <= 0:
        raise ValueError("cell size and gap distance must be positive")
    buildings = np.array(radio_map.building)
    points = np.column_stack([radio_map.x, radio_map.y])
    heard = ~np.isnan(radio_map.rssi)
    report = []
    for building in sorted(set(radio_map.building)):
        in_building = buildings == building
        cells = _footprint_cells(points[in_building], cell_m, gap_m)
        for level in sorted(set(radio_map.level[in_building].tolist())):
            rows = in_building & (radio_map.level == level)
            level_points = points[rows]
            report.append(
                LevelCoverage(
                    building=building,
                    level=level,
                    fingerprints=int(rows.sum()),
                    reference_points=len(np.unique(np.round(level_points, 1), axis=0)),
                    aps_heard=int(heard[rows].any(axis=0).sum()),
                    grid_cells=len(cells),
                    gap_cells=int((~_within(cells, level_points, gap_m)).sum()),
                )
            )
    return report


def _footprint_cells(points: FloatArray, cell_m: float, gap_m: float) -> FloatArray:
    low, high = points.min(axis=0), points.max(axis=0)
    xs = np.arange(low[0], high[0] + cell_m, cell_m) + cell_m / 2
    ys = np.arange(low[1], high[1] + cell_m, cell_m) + cell_m / 2
    grid: FloatArray = np.array(np.meshgrid(xs, ys)).reshape(2, -1).T
    return grid[_within(grid, points, gap_m)]


def _within(cells: FloatArray, points: FloatArray, radius: float) -> npt.NDArray[np.bool_]:
    """For each cell centre: is some point within ``radius``? (unique points, so small)"""
    unique = np.unique(points, axis=0)
    squared = ((cells[:, None, :] - unique[None, :, :]) ** 2).sum(axis=2)
    return np.asarray((squared <= radius * radius).any(axis=1))
