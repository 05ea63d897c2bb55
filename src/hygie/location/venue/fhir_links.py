"""FHIR Location resources for a venue, so that appointments and devices can point at places.

venue -> site (si), building -> bu, level -> lvl, units -> ro (rooms), co (walkways, lobbies)
or area (elevators, stairs, other spaces), occupants (hospital services) -> wa (ward).
Each Location carries the IMDF feature id as an identifier and is written with a conditional
update on it, so a re-import updates the same resources instead of adding copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hygie.location.venue.geometry import feature_point
from hygie.location.venue.model import Feature, ImdfArchive, label

if TYPE_CHECKING:
    from hygie.fhir.store import StoreTransaction

IMDF_SYSTEM = "urn:hygie:imdf"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
_PHYSICAL_DISPLAY = {
    "si": "Site",
    "bu": "Building",
    "lvl": "Level",
    "ro": "Room",
    "co": "Corridor",
    "wa": "Ward",
    "area": "Area",
}
_CORRIDORS = frozenset({"walkway", "walkway.island", "footbridge", "lobby", "movingwalkway"})
_NOT_ROOMS = frozenset(
    {"elevator", "escalator", "stairs", "steps", "ramp", "wheelchairramp", "opentobelow"}
    | {"structure", "column", "brick", "concrete", "drywall", "glass", "vegetation", "road"}
)


def unit_physical_type(category: str) -> str:
    if category in _CORRIDORS:
        return "co"
    if category in _NOT_ROOMS:
        return "area"
    return "ro"


def identifier_criteria(feature_id: str) -> str:
    return f"identifier={IMDF_SYSTEM}|{feature_id}"


def location_resource(
    feature: Feature, name: str, physical_type: str, part_of: str | None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "identifier": [{"system": IMDF_SYSTEM, "value": feature["id"]}],
        "status": "active",
        "name": name,
        "mode": "instance",
        "physicalType": {
            "coding": [
                {
                    "system": PHYSICAL_TYPE_SYSTEM,
                    "code": physical_type,
                    "display": _PHYSICAL_DISPLAY[physical_type],
                }
            ]
        },
    }
    alias = label(feature["properties"].get("alt_name"))
    if alias:
        resource["alias"] = [alias]
    point = feature_point(feature)
    if point is not None:
        resource["position"] = {"longitude": round(point[0], 7), "latitude": round(point[1], 7)}
    if part_of is not None:
        resource["partOf"] = {"reference": f"Location/{part_of}"}
    return resource


def link_locations(tx: StoreTransaction, archive: ImdfArchive) -> dict[str, str]:
    """Create or update one Location per venue, building, level, unit and occupant.

    Returns IMDF feature id -> FHIR Location id. Runs in the caller's transaction.
    """
    links: dict[str, str] = {}

    def put(feature: Feature, name: str, physical_type: str, parent: str | None) -> None:
        resource = location_resource(
            feature, name, physical_type, links.get(parent) if parent else None
        )
        result = tx.conditional_update("Location", identifier_criteria(feature["id"]), resource)
        links[feature["id"]] = result.stored.id

    venue = archive.venue
    put(venue, archive.name, "si", None)
    for building in archive.of_type("building"):
        name = label(building["properties"].get("name")) or "Bâtiment"
        put(building, name, "bu", venue["id"])
    levels = {level["id"]: level for level in archive.of_type("level")}
    for level in levels.values():
        props = level["properties"]
        buildings = props.get("building_ids") or []
        put(level, label(props["name"]) or "Niveau", "lvl", buildings[0] if buildings else None)
    units = {}
    for unit in archive.of_type("unit"):
        props = unit["properties"]
        units[unit["id"]] = unit
        name = label(props.get("name")) or label(props.get("alt_name")) or props["category"]
        put(unit, name, unit_physical_type(props["category"]), props["level_id"])
    anchors = {anchor["id"]: anchor for anchor in archive.of_type("anchor")}
    for occupant in archive.of_type("occupant"):
        props = occupant["properties"]
        unit_id = anchors[props["anchor_id"]]["properties"]["unit_id"]
        level_id = units[unit_id]["properties"]["level_id"]
        resource_feature = {**occupant, "properties": {**props}}
        if feature_point(resource_feature) is None:
            # An occupant has no geometry of its own: pin it at its anchor.
            resource_feature["geometry"] = anchors[props["anchor_id"]]["geometry"]
        put(resource_feature, label(props["name"]) or "Service", "wa", level_id)
    return links
