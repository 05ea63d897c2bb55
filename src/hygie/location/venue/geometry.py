"""Plane geometry for venue maps: a local metric frame, centroids, containment, validity.

A hospital spans a few hundred metres, so an equirectangular projection around the venue's
display point is accurate to centimetres; every distance Hygie shows is computed in it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Ring = list[Point]

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """Metres east (x) and north (y) of an origin given in WGS84 longitude/latitude."""

    lon0: float
    lat0: float

    @property
    def _m_per_deg_lon(self) -> float:
        return _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def to_xy(self, lon: float, lat: float) -> Point:
        return ((lon - self.lon0) * self._m_per_deg_lon, (lat - self.lat0) * _M_PER_DEG_LAT)

    def to_lonlat(self, x: float, y: float) -> Point:
        return (self.lon0 + x / self._m_per_deg_lon, self.lat0 + y / _M_PER_DEG_LAT)


def exterior_rings(geometry: dict[str, Any]) -> list[list[Sequence[float]]]:
    """The outer ring of a Polygon, or of each part of a MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [polygon[0] for polygon in geometry["coordinates"]]


def distance(a: Point, b: Point) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def ring_area_centroid(ring: Ring) -> tuple[float, Point]:
    """Signed area and centroid of a closed ring (first point repeated at the end)."""
    area2 = cx = cy = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        cross = x1 * y2 - x2 * y1
        area2 += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if abs(area2) < 1e-12:
        xs, ys = zip(*ring, strict=True)
        return 0.0, (sum(xs) / len(xs), sum(ys) / len(ys))
    return area2 / 2, (cx / (3 * area2), cy / (3 * area2))


def rings_centroid(rings: Sequence[Ring]) -> Point:
    weighted = [ring_area_centroid(ring) for ring in rings]
    total = sum(abs(area) for area, _ in weighted)
    if total == 0:
        return weighted[0][1]
    return (
        sum(abs(a) * c[0] for a, c in weighted) / total,
        sum(abs(a) * c[1] for a, c in weighted) / total,
    )


def contains(ring: Ring, point: Point) -> bool:
    """Even-odd rule; points exactly on the boundary may fall either way."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def distance_to_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    t = max(0.0, min(1.0, t))
    return distance(p, (a[0] + t * dx, a[1] + t * dy))


def distance_to_ring(ring: Ring, point: Point) -> float:
    return min(distance_to_segment(point, a, b) for a, b in itertools.pairwise(ring))


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(c, d, a), orient(c, d, b)
    d3, d4 = orient(a, b, c), orient(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0


def ring_problem(ring: Sequence[Sequence[float]]) -> str | None:
    """Why a linear ring is not valid GeoJSON (RFC 7946 section 3.1.6), or None."""
    if len(ring) < 4:
        return f"a polygon ring needs at least 4 positions, it has {len(ring)}"
    if list(ring[0]) != list(ring[-1]):
        return "a polygon ring must end with its first position (it is not closed)"
    points = [(float(p[0]), float(p[1])) for p in ring]
    edges = list(itertools.pairwise(points))
    for i, (a, b) in enumerate(edges):
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue  # the closing edge meets the first one at the shared position
            c, d = edges[j]
            if _segments_cross(a, b, c, d):
                return f"the ring crosses itself (edges {i + 1} and {j + 1})"
    if abs(ring_area_centroid(points)[0]) == 0:
        return "the ring encloses no area"
    return None


def feature_point(feature: dict[str, Any]) -> Point | None:
    """Where to pin a feature: its display point, else the centre of its geometry (lon, lat)."""
    shown = (feature.get("properties") or {}).get("display_point")
    if shown:
        return (float(shown["coordinates"][0]), float(shown["coordinates"][1]))
    geometry = feature.get("geometry")
    if not geometry:
        return None
    coords = geometry["coordinates"]
    if geometry["type"] == "Point":
        return (float(coords[0]), float(coords[1]))
    if geometry["type"] == "LineString":
        (x1, y1), (x2, y2) = coords[0][:2], coords[-1][:2]
        return ((x1 + x2) / 2, (y1 + y2) / 2)
    rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in exterior_rings(geometry)]
    return rings_centroid(rings)
