"""Turn what a person or a client typed into a place on the graph.

A destination is a unit (by IMDF id, room number or alternative name), a service or an
amenity (by id or name), or a FHIR Location (``Location/<id>``) made from one of those.
An origin may also be an entrance (an opening), or a position:
``geo:<lat>,<lon>;level=<level id or ordinal>`` (RFC 5870 style, WGS84) or
``xy:<level id>:<x>,<y>`` in metres east and north of the venue's display point.
Names match without regard to case, accents or punctuation; a unique partial match counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hygie.location.venue.geometry import Point
from hygie.location.wayfinding.graph import VenueGraph, normalize

LocationLookup = Callable[[str], str | None]  # FHIR Location id -> IMDF feature id
_GEO = re.compile(r"^geo:(?P<lat>-?\d+(?:\.\d+)?),(?P<lon>-?\d+(?:\.\d+)?);level=(?P<level>[^;]+)$")
_XY = re.compile(r"^xy:(?P<level>[^:]+):(?P<x>-?\d+(?:\.\d+)?),(?P<y>-?\d+(?:\.\d+)?)$")


class UnknownPlace(LookupError):
    """No place matches; ``message`` is French, for the person who typed it."""

    def __init__(self, parameter: str, value: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value
        self.message = message


@dataclass(frozen=True, slots=True)
class Place:
    label: str
    unit_id: str | None = None  # a destination, or an origin inside a unit
    opening_id: str | None = None  # an origin at an entrance
    level_id: str | None = None  # with point: an origin at a position
    point: Point | None = None


def resolve_destination(
    graph: VenueGraph, text: str, locations: LocationLookup | None = None
) -> Place:
    place = _resolve(graph, "to", text, locations, openings=False)
    if place.unit_id is None:
        raise UnknownPlace(
            "to", text, f"« {text} » n'est pas une destination (ni salle ni service)."
        )
    return place


def resolve_origin(graph: VenueGraph, text: str, locations: LocationLookup | None = None) -> Place:
    text = text.strip()
    geo, xy = _GEO.match(text), _XY.match(text)
    if geo:
        return _position(graph, geo["level"], None, (float(geo["lon"]), float(geo["lat"])))
    if xy:
        return _position(graph, xy["level"], (float(xy["x"]), float(xy["y"])), None)
    return _resolve(graph, "from", text, locations, openings=True)


def _position(graph: VenueGraph, level: str, point: Point | None, lonlat: Point | None) -> Place:
    xy = point if point is not None else graph.frame.to_xy(*lonlat)  # type: ignore[misc]
    if level in graph.levels:
        candidates = [graph.levels[level]]
    else:
        try:
            ordinal = int(level)
        except ValueError:
            raise UnknownPlace("from", level, f"Niveau inconnu : « {level} ».") from None
        candidates = [lv for lv in graph.levels.values() if lv.ordinal == ordinal]
    for candidate in candidates:
        unit = graph.unit_at(candidate.id, xy)
        if unit is not None:
            return Place("votre position", unit.id, None, unit.level_id, xy)
    raise UnknownPlace("from", level, "Cette position n'est dans aucun espace du plan à ce niveau.")


def _resolve(
    graph: VenueGraph,
    parameter: str,
    text: str,
    locations: LocationLookup | None,
    *,
    openings: bool,
) -> Place:
    value = text.strip()
    if value.startswith("Location/"):
        location_id = value.removeprefix("Location/")
        feature_id = locations(location_id) if locations else None
        if feature_id is None:
            raise UnknownPlace(
                parameter, text, f"Le lieu FHIR « {value} » ne figure pas sur le plan."
            )
        value = feature_id
    found = _by_id(graph, value, openings=openings)
    if found is None:
        found = _by_name(graph, parameter, text, openings=openings)
    return found


def _by_id(graph: VenueGraph, feature_id: str, *, openings: bool) -> Place | None:
    if feature_id in graph.units:
        return Place(graph.units[feature_id].label, unit_id=feature_id)
    if feature_id in graph.places:
        place = graph.places[feature_id]
        room = graph.units[place.unit_id].name
        return Place(f"{place.name} ({room})" if room else place.name, unit_id=place.unit_id)
    if openings and feature_id in graph.openings:
        opening = graph.openings[feature_id]
        return Place(opening.name or "l'entrée", opening_id=feature_id)
    return None


def _by_name(graph: VenueGraph, parameter: str, text: str, *, openings: bool) -> Place:
    wanted = normalize(text)
    if not wanted:
        raise UnknownPlace(parameter, text, "Indiquez un lieu.")

    def usable(kind: str) -> bool:
        return openings or kind != "opening"

    hits = [hit for hit in graph.names.get(wanted, []) if usable(hit[0])]
    if not hits:
        hits = [
            hit
            for name, found in graph.names.items()
            if wanted in name
            for hit in found
            if usable(hit[0])
        ]
    # A service and its room are one place: keep distinct destinations only.
    places = {
        (p.unit_id, p.opening_id): p
        for p in (_by_id(graph, fid, openings=openings) for _, fid in hits)
        if p is not None
    }
    if len(places) == 1:
        return next(iter(places.values()))
    if not places:
        raise UnknownPlace(parameter, text, f"Lieu inconnu : « {text} ».")
    raise UnknownPlace(
        parameter,
        text,
        f"« {text} » désigne plusieurs lieux ({len(places)}) ; précisez, par exemple "
        f"{', '.join(sorted(p.label for p in places.values())[:3])}.",
    )
