"""The values asset tracking hands around: places, reports, zones, events, answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

ASSET_KINDS = frozenset({"bed", "wheelchair", "infusion-pump", "monitor"})
ZONE_KINDS = frozenset({"room", "service", "decontamination", "level", "other"})
EventKind = Literal["enter", "leave", "alert"]


class TrackingError(Exception):
    """A request the tracking service refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Place:
    """A point on one level of one building, in that venue's metric frame."""

    building: str
    level: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Fix:
    """A located position: where, how sure (metres), and whether it came from a scan."""

    place: Place
    uncertainty_m: float
    from_scan: bool


@dataclass(frozen=True, slots=True)
class TagReport:
    """What a tag said at ``t_us`` (µs since the epoch): either a WiFi scan or a position."""

    tag_id: str
    t_us: int
    scan: Mapping[str, float] | None = None
    fix: Fix | None = None


class PositionerFix(Protocol):
    """What the positioning engine answers for one scan (duck-typed on its ``Fix``)."""

    @property
    def building(self) -> object: ...
    @property
    def level(self) -> int: ...
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def uncertainty_m(self) -> float: ...


class Positioner(Protocol):
    """The positioning engine as tracking uses it: many scans located in one call, as an
    RSSI matrix (dBm, NaN = not heard) whose columns are ``ap_ids``; it raises ValueError
    for a scan it cannot locate."""

    def locate_many(
        self, rssi: npt.NDArray[np.float64], ap_ids: Sequence[str]
    ) -> Sequence[PositionerFix]: ...


@dataclass(frozen=True, slots=True)
class Zone:
    """A geofence: a polygon on one level, with a margin band against edge noise."""

    id: str
    name: str
    kind: str
    building: str
    level: int
    polygon: tuple[tuple[float, float], ...]
    margin_m: float = 1.0
    location_id: str | None = None  # the FHIR Location this zone stands for, if any

    @property
    def area(self) -> float:
        pts = self.polygon
        twice = sum(pts[i - 1][0] * pts[i][1] - pts[i][0] * pts[i - 1][1] for i in range(len(pts)))
        return abs(twice) / 2

    @property
    def centroid(self) -> Place:
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return Place(self.building, self.level, sum(xs) / len(xs), sum(ys) / len(ys))


@dataclass(frozen=True, slots=True)
class Asset:
    """A tracked piece of equipment: its tag, its FHIR Device, where it belongs."""

    seq: int
    tag_id: str
    device_id: str
    kind: str
    name: str
    home_zone_id: str | None
    in_use: bool


@dataclass(frozen=True, slots=True)
class ZoneEvent:
    """An asset entered or left a zone, or a rule raised an alert on such a move."""

    t_us: int
    zone_id: str
    tag_id: str
    device_id: str
    kind: EventKind
    rule: str | None = None
    seq: int | None = None  # set once read back from storage


@dataclass(frozen=True, slots=True)
class AssetPosition:
    """The answer to "where is X": last fix, its time, and the zones it is confirmed in."""

    asset: Asset
    t_us: int
    fix: Fix
    zone_ids: tuple[str, ...] = ()
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class PositionSample:
    t_us: int
    fix: Fix


@dataclass(frozen=True, slots=True)
class NearestAsset:
    asset: Asset
    position: AssetPosition
    distance_m: float


@dataclass(frozen=True, slots=True)
class IngestResult:
    """How many fixes were stored and the zone events they caused."""

    stored: int
    events: list[ZoneEvent] = field(default_factory=list)
