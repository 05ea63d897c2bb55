"""The stored WiFi radio map and the live positioner trained from it.

Exports the use cases and the live positioner; the HTTP route is in ``api``, the tables in
``tables``, the packed storage in ``storage``.
"""

from hygie.location.radiomap.live import LivePositioner, NoRadioMap
from hygie.location.radiomap.service import (
    ImportResult,
    import_radio_map,
    load_radio_map,
    radio_map_info,
    radio_map_version,
)

__all__ = [
    "ImportResult",
    "LivePositioner",
    "NoRadioMap",
    "import_radio_map",
    "load_radio_map",
    "radio_map_info",
    "radio_map_version",
]
