"""The FHIR Device behind each tracked asset: how it is created and moved between rooms."""

from __future__ import annotations

from typing import Any

from hygie.fhir.store import StoreTransaction, read_current

TAG_SYSTEM = "urn:hygie:location:tag"
KIND_SYSTEM = "urn:hygie:location:asset-kind"


def device_resource(tag_id: str, kind: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "status": "active",
        "identifier": [{"system": TAG_SYSTEM, "value": tag_id}],
        "type": {"coding": [{"system": KIND_SYSTEM, "code": kind}], "text": kind},
        "deviceName": [{"name": name, "type": "user-friendly-name"}],
    }


def relocate_device(
    tx: StoreTransaction, device_id: str, location_id: str | None, display: str | None
) -> None:
    """Point Device.location at the room's Location, or drop it when the room is unknown."""
    device = read_current(tx.conn, "Device", device_id).resource()
    if location_id is None:
        device.pop("location", None)
    else:
        device["location"] = {"reference": f"Location/{location_id}"}
        if display:
            device["location"]["display"] = display
    tx.update("Device", device_id, device)
