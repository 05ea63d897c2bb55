"""The hook through which other modules draw on the staff map: asset markers.

Asset tracking (``hygie.location.tracking``) builds :class:`AssetMarker` values and hands
a :data:`AssetMarkerSource` to :func:`hygie.location.web.location_web_router`; the staff
page then asks it for the markers of the level it shows and draws them with
:func:`hygie.location.web.svg.staff_level_svg`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssetMarker:
    """Something to pin on a level: a device, a bed, a wheelchair..."""

    label: str  # shown next to the pin and read by screen readers
    level_id: str  # the IMDF level it is on
    lon: float  # WGS84
    lat: float
    kind: str = "device"  # a CSS class suffix: marker-device, marker-bed...
    status: str | None = None  # e.g. "en service", "hors zone"; shown in the tooltip


AssetMarkerSource = Callable[[str], Sequence[AssetMarker]]
"""Given a level id, the markers to draw on it."""
