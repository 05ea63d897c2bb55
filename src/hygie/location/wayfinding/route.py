"""A route from an origin place to a destination place: its points, length, time and steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hygie.location.venue.geometry import distance
from hygie.location.wayfinding.graph import VenueGraph
from hygie.location.wayfinding.instructions import Instruction, RoutePoint, instructions_for
from hygie.location.wayfinding.places import Place
from hygie.location.wayfinding.routing import ACCESSIBLE, STANDARD, Profile, shortest_path


class NoRoute(LookupError):
    """The destination cannot be reached with this profile; ``message`` is French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Route:
    origin: str
    destination: str
    destination_unit_id: str
    profile: Profile
    points: list[RoutePoint]
    distance_m: float
    duration_s: float
    instructions: list[Instruction]

    @property
    def ordinals(self) -> list[int]:
        """The levels the route uses, in the order it reaches them."""
        seen: list[int] = []
        for point in self.points:
            if point.ordinal not in seen:
                seen.append(point.ordinal)
        return seen

    def to_json(self, graph: VenueGraph) -> dict[str, Any]:
        return {
            "venue": graph.venue_id,
            "from": self.origin,
            "to": self.destination,
            "to_unit": self.destination_unit_id,
            "accessible": self.profile is ACCESSIBLE,
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s),
            "speed_m_s": self.profile.speed_m_s,
            "levels": self.ordinals,
            "path": [
                {
                    "lon": round(lon, 7),
                    "lat": round(lat, 7),
                    "x": round(p.x, 2),
                    "y": round(p.y, 2),
                    "level_id": p.level_id,
                    "ordinal": p.ordinal,
                    "via": p.via,
                }
                for p in self.points
                for lon, lat in [graph.frame.to_lonlat(p.x, p.y)]
            ],
            "instructions": [
                {"text": i.text, "kind": i.kind, "ordinal": i.ordinal, "distance_m": i.distance_m}
                for i in self.instructions
            ],
        }


def plan_route(
    graph: VenueGraph, origin: Place, destination: Place, *, accessible: bool = False
) -> Route:
    profile = ACCESSIBLE if accessible else STANDARD
    assert destination.unit_id is not None
    target = graph.node_of("unit", destination.unit_id)
    start: RoutePoint | None = None
    sources: dict[int, float] = {}
    if origin.opening_id is not None:
        sources[graph.node_of("opening", origin.opening_id)] = 0.0
    else:
        assert origin.unit_id is not None
        unit = graph.units[origin.unit_id]
        here = origin.point or unit.centre
        start = RoutePoint(here[0], here[1], unit.level_id, graph.ordinal(unit.level_id), "start")
        if origin.unit_id == destination.unit_id:
            sources[target] = 0.0
        for opening_id in graph.unit_openings.get(origin.unit_id, []):
            node = graph.nodes[graph.node_of("opening", opening_id)]
            sources[graph.node_of("opening", opening_id)] = (
                distance(here, (node.x, node.y)) / profile.speed_m_s
            )
    found = shortest_path(graph, sources, target, profile)
    if found is None:
        if accessible:
            raise NoRoute(
                f"Aucun itinéraire accessible sans escalier ne mène à {destination.label}. "
                "Adressez-vous à l'accueil : un agent peut vous accompagner."
            )
        raise NoRoute(f"Aucun itinéraire ne mène à {destination.label} depuis {origin.label}.")
    seconds, hops = found
    points = [] if start is None else [start]
    for hop in hops:
        node = graph.nodes[hop.node]
        via = "start" if hop.edge is None else hop.edge.kind
        if hop.edge is None and start is not None:
            via = "walk"
        points.append(
            RoutePoint(
                node.x,
                node.y,
                node.level_id,
                graph.ordinal(node.level_id),
                via,
                hop.edge.unit_id if hop.edge else None,
                node.kind,
                node.feature_id,
            )
        )
    length = sum(hop.edge.length_m for hop in hops if hop.edge is not None)
    if start is not None and len(points) > 1:
        length += distance((start.x, start.y), (points[1].x, points[1].y))
    return Route(
        origin.label,
        destination.label,
        destination.unit_id,
        profile,
        points,
        length,
        seconds,
        instructions_for(graph, points, origin.label, destination.label),
    )
