"""Zone events as JSON, the same on the HTTP API and on MQTT."""

from __future__ import annotations

from typing import Any

from hygie.fhir.dates import format_instant
from hygie.location.tracking.model import ZoneEvent


def event_json(event: ZoneEvent) -> dict[str, Any]:
    return {
        "t": format_instant(event.t_us),
        "zone": event.zone_id,
        "tag": event.tag_id,
        "device": f"Device/{event.device_id}",
        "kind": event.kind,
        "rule": event.rule,
    }
