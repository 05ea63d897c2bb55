"""Asset tracking: tags on equipment report scans or positions; Hygie keeps each asset's
position and history, debounced geofence events and alerts, and finds the nearest free one.

Exports the service and its values; the HTTP routes are in ``api``, the MQTT listener in
``mqtt``, the tables in ``tables``.
"""

from hygie.location.tracking.distance import DistanceModel, StraightLine
from hygie.location.tracking.geofence import Debounce
from hygie.location.tracking.model import (
    Asset,
    AssetPosition,
    Fix,
    IngestResult,
    NearestAsset,
    Place,
    Positioner,
    PositionSample,
    TagReport,
    TrackingError,
    Zone,
    ZoneEvent,
)
from hygie.location.tracking.rules import AlertRule, EnteredDecontamination, LeftHomeService
from hygie.location.tracking.service import TrackingService

__all__ = [
    "AlertRule",
    "Asset",
    "AssetPosition",
    "Debounce",
    "DistanceModel",
    "EnteredDecontamination",
    "Fix",
    "IngestResult",
    "LeftHomeService",
    "NearestAsset",
    "Place",
    "PositionSample",
    "Positioner",
    "StraightLine",
    "TagReport",
    "TrackingError",
    "TrackingService",
    "Zone",
    "ZoneEvent",
]
