"""Wayfinding pages: the patient's plan, the staff map (with its asset-marker hook), the API.

Public interface: :func:`location_web_router`, :class:`AssetMarker`, :data:`AssetMarkerSource`,
:func:`staff_level_svg`.
"""

from hygie.location.web.markers import AssetMarker, AssetMarkerSource
from hygie.location.web.routes import location_web_router
from hygie.location.web.svg import staff_level_svg

__all__ = ["AssetMarker", "AssetMarkerSource", "location_web_router", "staff_level_svg"]
