"""What the wayfinding pages show, computed without HTTP: choices, route, maps, messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from hygie.location.venue.errors import UnknownVenue
from hygie.location.wayfinding.graph import VenueGraph
from hygie.location.wayfinding.places import UnknownPlace
from hygie.location.wayfinding.route import NoRoute, Route
from hygie.location.wayfinding.service import WayfindingService
from hygie.location.web.markers import AssetMarkerSource
from hygie.location.web.svg import route_level_svg, staff_level_svg

CATEGORY_FR = {
    "room": "Salle",
    "walkway": "Couloir",
    "footbridge": "Passerelle",
    "elevator": "Ascenseur",
    "stairs": "Escalier",
    "waitingroom": "Salle d'attente / accueil",
    "lobby": "Hall",
    "office": "Bureau",
    "laboratory": "Laboratoire",
    "foodservice": "Restauration",
    "nonpublic": "Accès réservé",
    "firstaid": "Soins d'urgence",
    "restroom.unisex.wheelchair": "Toilettes accessibles",
}
_NOT_DESTINATIONS = frozenset({"walkway", "footbridge", "elevator", "stairs", "escalator"})


def level_title(ordinal: int) -> str:
    return "Rez-de-chaussée (niveau 0)" if ordinal == 0 else f"Niveau {ordinal}"


def duration_fr(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


@dataclass
class PlanPage:
    """Everything ``plan.html`` needs; ``status`` is the HTTP status to answer with."""

    venue_name: str
    entrances: list[tuple[str, str]]
    services: list[tuple[str, str]]
    rooms: list[tuple[str, str]]
    depart: str = ""
    destination: str = ""
    accessible: bool = False
    route: Route | None = None
    maps: list[tuple[str, Markup]] = field(default_factory=list)
    summary: str = ""
    error: str | None = None
    status: int = 200

    def context(self) -> dict[str, Any]:
        return {"page": self, "level_title": level_title}


def choices(graph: VenueGraph) -> dict[str, list[tuple[str, str]]]:
    services = sorted((p.id, p.name) for p in graph.places.values() if p.kind == "occupant")
    rooms = sorted(
        (u.id, u.label)
        for u in graph.units.values()
        if u.name and u.category not in _NOT_DESTINATIONS
    )
    return {
        "entrances": [(o.id, o.name or "Entrée") for o in graph.entrances()],
        "services": sorted(services, key=lambda s: s[1]),
        "rooms": sorted(rooms, key=lambda r: r[1]),
    }


def plan_page(
    service: WayfindingService, depart: str | None, destination: str | None, accessible: bool
) -> PlanPage:
    graph = service.graph()
    options = choices(graph)
    page = PlanPage(
        graph.venue_name,
        options["entrances"],
        options["services"],
        options["rooms"],
        accessible=accessible,
    )
    page.depart, page.destination = depart or "", destination or ""
    if not depart or not destination:
        page.maps = [(level_title(0), route_level_svg(graph, 0))]
        if depart or destination:
            page.error, page.status = "Choisissez un point de départ et une destination.", 400
        return page
    try:
        _, route = service.route(depart, destination, accessible=accessible)
    except UnknownPlace as exc:
        page.error = exc.message
        page.status = 404 if exc.parameter == "to" else 400
        return page
    except NoRoute as exc:
        page.error, page.status = exc.message, 404
        return page
    page.route = route
    page.maps = [(level_title(o), route_level_svg(graph, o, route)) for o in route.ordinals]
    speed_kmh = f"{route.profile.speed_m_s * 3.6:.1f}".replace(".", ",")
    page.summary = (
        f"Distance : {round(route.distance_m)} m · temps estimé : "
        f"{duration_fr(route.duration_s)} (marche à {speed_kmh} km/h"
        f"{', ascenseurs compris' if any(p.via == 'elevator' for p in route.points) else ''})"
    )
    return page


@dataclass
class StaffPage:
    venue_name: str
    levels: list[tuple[str, str]]
    level_id: str
    map: Markup
    units: list[tuple[str, str, str]]  # name, category, service


def staff_page(
    service: WayfindingService, level_id: str | None, markers: AssetMarkerSource | None
) -> StaffPage:
    graph = service.graph()
    # Building levels first at each ordinal, then the galleries between buildings.
    ordered = sorted(
        graph.levels.values(), key=lambda lv: (lv.ordinal, len(lv.building_ids) > 1, lv.name)
    )
    chosen = level_id or ordered[0].id
    if chosen not in graph.levels:
        raise UnknownVenue(f"level {chosen}")
    services = {p.unit_id: p.name for p in graph.places.values() if p.kind == "occupant"}

    def level_label(level_id: str) -> str:
        level = graph.levels[level_id]
        if len(level.building_ids) != 1:
            return f"{level.name} (niveau {level.ordinal})"
        return f"{graph.buildings[level.building_ids[0]]} — {level.name}"

    units = sorted(
        (u.label, CATEGORY_FR.get(u.category, u.category), services.get(u.id, ""))
        for u in graph.units.values()
        if u.level_id == chosen
    )
    return StaffPage(
        graph.venue_name,
        [(lv.id, level_label(lv.id)) for lv in ordered],
        chosen,
        staff_level_svg(graph, chosen, markers(chosen) if markers else ()),
        units,
    )
