"""The walking graph of a venue, built once per archive and then only read.

Nodes are the openings (at their midpoint) and the units (at their display point). A walk
edge joins two openings of the same unit when that unit can be walked through (corridors,
halls, footbridges), or an opening to the unit it leads into. Elevators and stairs are
units too: their nodes on different levels are joined by vertical edges when their
footprints overlap in the same building, which is how IMDF expresses a shaft.

Openings join units on every level with the same ordinal, so a door between a building and
a gallery that IMDF files on the gallery's own level still connects the two.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hygie.location.venue.geometry import (
    LocalFrame,
    Point,
    Ring,
    contains,
    distance,
    distance_to_ring,
    exterior_rings,
    feature_point,
    rings_centroid,
)
from hygie.location.venue.model import ImdfArchive, label

DOOR_TOLERANCE_M = 0.5  # an opening belongs to a unit whose outline passes this close
AXIS_ELONGATION = 2.0  # a unit this many times longer than wide is walked down its middle
STAIRS_M_PER_LEVEL = 8.0  # walking length of one flight, landing included
VERTICAL = frozenset({"elevator", "stairs", "escalator"})
# Units people may walk through on their way elsewhere (not offices, rooms, wards...).
TRAVERSABLE = frozenset(
    {
        "walkway",
        "walkway.island",
        "footbridge",
        "lobby",
        "movingwalkway",
        "ramp",
        "wheelchairramp",
        "unenclosedarea",
        "platform",
    }
)


@dataclass(frozen=True, slots=True)
class LevelInfo:
    id: str
    ordinal: int
    name: str
    building_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: str
    level_id: str
    category: str
    name: str | None
    alt_name: str | None
    rings: tuple[Ring, ...]
    centre: Point

    @property
    def label(self) -> str:
        if self.name and self.alt_name:
            return f"{self.name} \N{EN DASH} {self.alt_name}"
        return self.name or self.alt_name or self.category


@dataclass(frozen=True, slots=True)
class OpeningInfo:
    id: str
    level_id: str
    a: Point
    b: Point
    category: str
    name: str | None

    @property
    def midpoint(self) -> Point:
        return ((self.a[0] + self.b[0]) / 2, (self.a[1] + self.b[1]) / 2)


@dataclass(frozen=True, slots=True)
class NamedPlace:
    """An occupant (a service) or an amenity: a name that leads to a unit."""

    id: str
    kind: str  # "occupant" or "amenity"
    name: str
    unit_id: str


@dataclass(frozen=True, slots=True)
class Node:
    kind: str  # "opening", "unit" or "axis" (a door's foot on a corridor's centre line)
    feature_id: str
    level_id: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Edge:
    target: int
    length_m: float
    kind: str  # "walk", "elevator", "stairs" or "escalator"
    unit_id: str  # the unit walked through, or the shaft unit left
    levels: int = 0  # levels climbed or descended (vertical edges)


@dataclass
class VenueGraph:
    venue_id: str
    venue_name: str
    frame: LocalFrame
    levels: dict[str, LevelInfo]
    buildings: dict[str, str]  # building id -> name
    units: dict[str, UnitInfo]
    openings: dict[str, OpeningInfo]
    places: dict[str, NamedPlace]
    nodes: list[Node] = field(default_factory=list)
    adjacency: list[list[Edge]] = field(default_factory=list)
    index: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, id) -> node
    unit_openings: dict[str, list[str]] = field(default_factory=dict)
    opening_units: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # norm -> (kind, id)

    def node_of(self, kind: str, feature_id: str) -> int:
        return self.index[(kind, feature_id)]

    def add_node(self, node: Node) -> int:
        self.index[(node.kind, node.feature_id)] = len(self.nodes)
        self.nodes.append(node)
        self.adjacency.append([])
        return len(self.nodes) - 1

    def connect(self, a: int, b: int, kind: str, unit_id: str, *, both: bool = True) -> None:
        na, nb = self.nodes[a], self.nodes[b]
        levels = abs(self.ordinal(na.level_id) - self.ordinal(nb.level_id))
        length = (
            STAIRS_M_PER_LEVEL * levels if kind != "walk" else distance((na.x, na.y), (nb.x, nb.y))
        )
        if kind == "elevator":
            length = 0.0  # the ride is time, not walking
        self.adjacency[a].append(Edge(b, length, kind, unit_id, levels))
        if both:
            self.adjacency[b].append(Edge(a, length, kind, unit_id, levels))

    def ordinal(self, level_id: str) -> int:
        return self.levels[level_id].ordinal

    def building_of(self, level_id: str) -> str | None:
        ids = self.levels[level_id].building_ids
        return ids[0] if len(ids) == 1 else None

    def entrances(self) -> list[OpeningInfo]:
        """Named openings onto the outside (they lead into one unit only)."""
        found = [
            opening
            for opening in self.openings.values()
            if opening.name and len(self.opening_units.get(opening.id, [])) == 1
        ]
        return sorted(found, key=lambda o: (o.category != "pedestrian.principal", o.name or ""))

    def unit_at(self, level_id: str, point: Point) -> UnitInfo | None:
        ordinal = self.ordinal(level_id)
        for unit in self.units.values():
            if self.ordinal(unit.level_id) == ordinal and any(
                contains(ring, point) for ring in unit.rings
            ):
                return unit
        return None


def normalize(text: str) -> str:
    """Lower case, no accents, words joined by single spaces: how names are matched."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def build_graph(archive: ImdfArchive) -> VenueGraph:
    """The graph of a validated archive."""
    origin = feature_point(archive.venue)
    assert origin is not None  # a validated venue has a polygon
    frame = LocalFrame(*origin)

    def xy(position: Sequence[float]) -> Point:
        return frame.to_xy(float(position[0]), float(position[1]))

    levels = {
        f["id"]: LevelInfo(
            f["id"],
            int(f["properties"]["ordinal"]),
            label(f["properties"]["name"]) or str(f["properties"]["ordinal"]),
            tuple(f["properties"].get("building_ids") or ()),
        )
        for f in archive.of_type("level")
    }
    buildings = {
        f["id"]: label(f["properties"].get("name")) or "Bâtiment"
        for f in archive.of_type("building")
    }
    units: dict[str, UnitInfo] = {}
    for f in archive.of_type("unit"):
        props = f["properties"]
        rings = tuple([xy(p) for p in ring] for ring in exterior_rings(f["geometry"]))
        shown = props.get("display_point")
        centre = xy(shown["coordinates"]) if shown else rings_centroid(rings)
        units[f["id"]] = UnitInfo(
            f["id"],
            props["level_id"],
            props["category"],
            label(props.get("name")),
            label(props.get("alt_name")),
            rings,
            centre,
        )
    openings = {
        f["id"]: OpeningInfo(
            f["id"],
            f["properties"]["level_id"],
            xy(f["geometry"]["coordinates"][0]),
            xy(f["geometry"]["coordinates"][-1]),
            f["properties"]["category"],
            label(f["properties"].get("name")),
        )
        for f in archive.of_type("opening")
    }
    anchors = {f["id"]: f["properties"]["unit_id"] for f in archive.of_type("anchor")}
    places = {
        f["id"]: NamedPlace(
            f["id"],
            "occupant",
            label(f["properties"]["name"]) or "",
            anchors[f["properties"]["anchor_id"]],
        )
        for f in archive.of_type("occupant")
    }
    for f in archive.of_type("amenity"):
        name = label(f["properties"].get("name"))
        if name:
            places[f["id"]] = NamedPlace(f["id"], "amenity", name, f["properties"]["unit_ids"][0])
    graph = VenueGraph(
        archive.venue_id, archive.name, frame, levels, buildings, units, openings, places
    )
    _add_nodes_and_doors(graph)
    _add_shafts(graph)
    _index_names(graph)
    return graph


def _add_nodes_and_doors(graph: VenueGraph) -> None:
    by_ordinal: dict[int, list[UnitInfo]] = defaultdict(list)
    for unit in graph.units.values():
        graph.add_node(Node("unit", unit.id, unit.level_id, *unit.centre))
        by_ordinal[graph.ordinal(unit.level_id)].append(unit)
    for opening in graph.openings.values():
        node = graph.add_node(Node("opening", opening.id, opening.level_id, *opening.midpoint))
        for unit in by_ordinal[graph.ordinal(opening.level_id)]:
            if any(
                distance_to_ring(ring, opening.midpoint) <= DOOR_TOLERANCE_M for ring in unit.rings
            ):
                graph.opening_units.setdefault(opening.id, []).append(unit.id)
                graph.unit_openings.setdefault(unit.id, []).append(opening.id)
                # A unit's own node is a destination; only a shaft's is also a way through
                # (corridors are crossed door to door, or along their centre line).
                unit_node = graph.node_of("unit", unit.id)
                graph.connect(node, unit_node, "walk", unit.id, both=unit.category in VERTICAL)
    for unit_id, door_ids in graph.unit_openings.items():
        unit = graph.units[unit_id]
        axis = corridor_axis(unit) if unit.category in TRAVERSABLE else None
        if axis is not None:
            _connect_along_axis(graph, unit, door_ids, axis)
            continue
        for i, first in enumerate(door_ids):
            for second in door_ids[i + 1 :]:
                outside = (
                    len(graph.opening_units[first]) == 1 or len(graph.opening_units[second]) == 1
                )
                # An entrance leads into the building even through a room (the ER's hall).
                if unit.category in TRAVERSABLE or outside:
                    graph.connect(
                        graph.node_of("opening", first),
                        graph.node_of("opening", second),
                        "walk",
                        unit_id,
                    )


def corridor_axis(unit: UnitInfo) -> tuple[Point, Point] | None:
    """The centre line of an elongated unit (a point on it and its unit direction), or None.

    Routes follow it so that they are drawn, and described, down the middle of corridors
    rather than diagonally from door to door.
    """
    if len(unit.rings) != 1:
        return None
    ring = unit.rings[0][:-1]
    cx = sum(p[0] for p in ring) / len(ring)
    cy = sum(p[1] for p in ring) / len(ring)
    sxx = sum((p[0] - cx) ** 2 for p in ring)
    syy = sum((p[1] - cy) ** 2 for p in ring)
    sxy = sum((p[0] - cx) * (p[1] - cy) for p in ring)
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)  # principal direction of the outline
    ux, uy = math.cos(angle), math.sin(angle)
    along = [(p[0] - cx) * ux + (p[1] - cy) * uy for p in ring]
    across = [-(p[0] - cx) * uy + (p[1] - cy) * ux for p in ring]
    length, width = max(along) - min(along), max(across) - min(across)
    if width <= 0 or length < AXIS_ELONGATION * width:
        return None
    if not contains(unit.rings[0], (cx, cy)):
        return None  # an L or U shape: its mean point is outside; go door to door
    return (cx, cy), (ux, uy)


def _connect_along_axis(
    graph: VenueGraph, unit: UnitInfo, door_ids: list[str], axis: tuple[Point, Point]
) -> None:
    (cx, cy), (ux, uy) = axis
    stops = []
    for door_id in door_ids:
        door = graph.nodes[graph.node_of("opening", door_id)]
        t = (door.x - cx) * ux + (door.y - cy) * uy
        stop = graph.add_node(
            Node("axis", f"{unit.id}/{door_id}", unit.level_id, cx + t * ux, cy + t * uy)
        )
        graph.connect(graph.node_of("opening", door_id), stop, "walk", unit.id)
        stops.append(stop)
    for i, first in enumerate(stops):
        for second in stops[i + 1 :]:
            graph.connect(first, second, "walk", unit.id)


def _add_shafts(graph: VenueGraph) -> None:
    """Join elevators (every pair of stops) and stairs (one flight at a time) by footprint."""
    for category in sorted(VERTICAL):
        members = [u for u in graph.units.values() if u.category == category]
        shafts: list[list[UnitInfo]] = []
        for unit in members:
            for shaft in shafts:
                if any(_same_shaft(graph, unit, other) for other in shaft):
                    shaft.append(unit)
                    break
            else:
                shafts.append([unit])
        for shaft in shafts:
            shaft.sort(key=lambda u: graph.ordinal(u.level_id))
            pairs = (
                [(a, b) for i, a in enumerate(shaft) for b in shaft[i + 1 :]]
                if category == "elevator"
                else list(itertools.pairwise(shaft))
            )
            for a, b in pairs:
                if graph.ordinal(a.level_id) != graph.ordinal(b.level_id):
                    graph.connect(
                        graph.node_of("unit", a.id), graph.node_of("unit", b.id), category, a.id
                    )


def _same_shaft(graph: VenueGraph, a: UnitInfo, b: UnitInfo) -> bool:
    shared = set(graph.levels[a.level_id].building_ids) & set(graph.levels[b.level_id].building_ids)
    return bool(shared) and (
        any(contains(ring, b.centre) for ring in a.rings)
        or any(contains(ring, a.centre) for ring in b.rings)
    )


def _index_names(graph: VenueGraph) -> None:
    def add(text: str | None, kind: str, feature_id: str) -> None:
        if text:
            graph.names.setdefault(normalize(text), []).append((kind, feature_id))

    for place in graph.places.values():
        add(place.name, place.kind, place.id)
    for unit in graph.units.values():
        add(unit.name, "unit", unit.id)
        add(unit.alt_name, "unit", unit.id)
    for opening in graph.openings.values():
        add(opening.name, "opening", opening.id)
