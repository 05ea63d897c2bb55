"""CHU Hygie's map, generated: two buildings joined by a ground-floor gallery and a footbridge.

The plan is drawn in metres (x east, y north) and written out as IMDF in WGS84. Each
building is 64 m x 30 m: a 6 m corridor along its length, six 10 m rooms on each side,
and a core with an elevator and a staircase at one end. Rooms are numbered building,
level, slot: A-112 is building A, level 1, slot 12 (slots 1-6 south, 7-12 north, west to
east). Ids are UUIDs derived from names, so every run gives the same archive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hygie.location.venue.geometry import LocalFrame
from hygie.location.venue.model import Feature, ImdfArchive

# Boulevard de la Chantourne, La Tronche: the plan's (0, 0) corner.
ORIGIN = LocalFrame(lon0=5.7475, lat0=45.1995)
_NAMESPACE = uuid.UUID("6f1d3c52-6a8e-4d0c-9b8e-2f6a1c0d4e71")
WIDTH, DEPTH, CORE, SLOT = 64.0, 30.0, 4.0, 10.0
CORRIDOR = (12.0, 18.0)  # south and north walls of the corridor
LEVEL_NAMES = {0: "Rez-de-chaussée", 1: "Niveau 1", 2: "Niveau 2"}

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Room:
    """Rooms on a level: the first slot, how many slots wide, category, alt name, service."""

    slot: int
    category: str = "room"
    alt_name: str | None = None
    service: str | None = None
    span: int = 1
    entrance: str | None = None  # an outside door on the facade, with this name


@dataclass(frozen=True)
class BuildingPlan:
    letter: str
    name: str
    x0: float
    core_east: bool
    levels: dict[int, list[Room]] = field(default_factory=dict)


BUILDINGS = (
    BuildingPlan(
        "A",
        "Bâtiment A \N{EN DASH} Consultations",
        0.0,
        core_east=False,
        levels={
            0: [
                Room(1, "lobby", "Hall d'accueil", "Accueil", span=2, entrance="Accueil principal"),
                Room(3, "laboratory", "Prélèvements", "Laboratoire \N{EN DASH} prélèvements"),
                Room(4, "foodservice", "Cafétéria"),
                Room(5, "restroom.unisex.wheelchair", "Toilettes"),
                Room(6, "office", "Bureau des admissions", "Admissions"),
                Room(7, "waitingroom", "Salle d'attente"),
            ],
            1: [
                Room(1, alt_name="Consultation pneumologie 1"),
                Room(2, alt_name="Consultation pneumologie 2"),
                Room(3, "waitingroom", "Accueil pneumologie", "Consultations de pneumologie"),
                Room(5, "restroom.unisex.wheelchair", "Toilettes"),
                Room(9, alt_name="Consultation cardiologie 1"),
                Room(10, alt_name="Consultation cardiologie 2"),
                Room(11, alt_name="Échographie cardiaque"),
                Room(12, "waitingroom", "Accueil cardiologie", "Consultations de cardiologie"),
            ],
            2: [
                Room(1, "waitingroom", "Accueil hôpital de jour", "Hôpital de jour", span=2),
                Room(7, "waitingroom", "Accueil neurologie", "Consultations de neurologie"),
                Room(8, alt_name="Consultation neurologie 1"),
                Room(9, alt_name="Consultation neurologie 2"),
            ],
        },
    ),
    BuildingPlan(
        "B",
        "Bâtiment B \N{EN DASH} Plateau technique",
        84.0,
        core_east=True,
        levels={
            0: [
                Room(
                    1,
                    "firstaid",
                    "Accueil des urgences",
                    "Urgences",
                    span=2,
                    entrance="Entrée des urgences",
                ),
                Room(3, alt_name="Box de soins 1"),
                Room(4, alt_name="Box de soins 2"),
                Room(7, "waitingroom", "Accueil radiologie", "Radiologie", span=2),
                Room(9, alt_name="Scanner"),
                Room(10, alt_name="IRM"),
                Room(11, alt_name="Radiographie"),
            ],
            1: [
                Room(1, "nonpublic", "Salles d'opération", "Bloc opératoire", span=3),
                Room(4, alt_name="Salle de réveil"),
                Room(7, "waitingroom", "Accueil chirurgie ambulatoire", "Chirurgie ambulatoire"),
            ],
            2: [
                Room(1, alt_name="Chambre 1"),
                Room(2, alt_name="Chambre 2"),
                Room(3, alt_name="Chambre 3"),
                Room(7, "office", "Poste de soins", "Chirurgie \N{EN DASH} hospitalisation"),
                Room(8, alt_name="Chambre 8"),
                Room(9, alt_name="Chambre 9"),
            ],
        },
    ),
)
# Connector levels between the buildings: ordinal, name, unit category, y extent.
CONNECTORS = (
    (0, "Galerie de liaison", "walkway"),
    (1, "Passerelle", "footbridge"),
)
CONNECTOR_SPAN = (64.0, 84.0, 13.0, 17.0)


class _Writer:
    """Collects features, with stable ids and WGS84 geometry."""

    def __init__(self) -> None:
        self.features: dict[str, list[Feature]] = {}

    @staticmethod
    def id(key: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, key))

    @staticmethod
    def position(x: float, y: float) -> list[float]:
        lon, lat = ORIGIN.to_lonlat(x, y)
        return [round(lon, 7), round(lat, 7)]

    def polygon(self, rect: Rect) -> dict[str, Any]:
        x0, y0, x1, y1 = rect
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        return {"type": "Polygon", "coordinates": [[self.position(x, y) for x, y in corners]]}

    def point(self, x: float, y: float) -> dict[str, Any]:
        return {"type": "Point", "coordinates": self.position(x, y)}

    def line(self, a: tuple[float, float], b: tuple[float, float]) -> dict[str, Any]:
        return {"type": "LineString", "coordinates": [self.position(*a), self.position(*b)]}

    def add(
        self, feature_type: str, key: str, geometry: dict[str, Any] | None, **props: Any
    ) -> str:
        fid = self.id(key)
        self.features.setdefault(feature_type, []).append(
            {
                "id": fid,
                "type": "Feature",
                "feature_type": feature_type,
                "geometry": geometry,
                "properties": props,
            }
        )
        return fid


def fr(text: str) -> dict[str, str]:
    return {"fr": text}


def centre(rect: Rect) -> tuple[float, float]:
    return ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2)


def demo_archive() -> ImdfArchive:
    w = _Writer()
    address = w.add(
        "address",
        "address",
        None,
        address="Boulevard de la Chantourne",
        unit=None,
        locality="La Tronche",
        province="FR-38",
        country="FR",
        postal_code="38700",
        postal_code_ext=None,
    )
    w.add(
        "venue",
        "venue",
        w.polygon((-10.0, -15.0, 158.0, 40.0)),
        category="healthcarefacility",
        restriction=None,
        name=fr("CHU Hygie"),
        alt_name=None,
        hours="Mo-Su 00:00-24:00",
        phone="+33476765765",
        website="https://chu-hygie.example.fr",
        display_point=w.point(74.0, 15.0),
        address_id=address,
    )
    building_ids = {}
    for plan in BUILDINGS:
        rect = (plan.x0, 0.0, plan.x0 + WIDTH, DEPTH)
        building_ids[plan.letter] = w.add(
            "building",
            f"building:{plan.letter}",
            None,
            name=fr(plan.name),
            alt_name=None,
            category="unspecified",
            restriction=None,
            display_point=w.point(*centre(rect)),
            address_id=address,
        )
        for ordinal, rooms in plan.levels.items():
            _building_level(w, plan, ordinal, rooms, building_ids[plan.letter])
    for ordinal, name, category in CONNECTORS:
        _connector(w, ordinal, name, category, list(building_ids.values()))
    manifest = {
        "version": "1.0.0",
        "created": "2026-11-28T00:00:00Z",
        "generated_by": "Hygie demo",
        "language": "fr",
    }
    return ImdfArchive(manifest=manifest, features=w.features)


def _level(w: _Writer, key: str, rect: Rect, ordinal: int, name: str, buildings: list[str]) -> str:
    return w.add(
        "level",
        key,
        w.polygon(rect),
        category="unspecified",
        restriction=None,
        outdoor=False,
        ordinal=ordinal,
        name=fr(name),
        short_name=fr(str(ordinal)),
        display_point=w.point(*centre(rect)),
        address_id=None,
        building_ids=buildings,
    )


def _unit(
    w: _Writer,
    key: str,
    rect: Rect,
    level: str,
    category: str,
    name: str | None,
    alt_name: str | None = None,
) -> str:
    return w.add(
        "unit",
        key,
        w.polygon(rect),
        category=category,
        restriction="employeesonly" if category == "nonpublic" else None,
        accessibility=None,
        name=fr(name) if name else None,
        alt_name=fr(alt_name) if alt_name else None,
        level_id=level,
        display_point=w.point(*centre(rect)),
    )


def _opening(
    w: _Writer,
    key: str,
    a: tuple[float, float],
    b: tuple[float, float],
    level: str,
    category: str = "pedestrian",
    name: str | None = None,
) -> None:
    w.add(
        "opening",
        key,
        w.line(a, b),
        category=category,
        accessibility=None,
        access_control=None,
        door={
            "type": "hinged",
            "automatic": category == "pedestrian.principal",
            "material": "wood",
        },
        name=fr(name) if name else None,
        alt_name=None,
        display_point=None,
        level_id=level,
    )


def _building_level(
    w: _Writer, plan: BuildingPlan, ordinal: int, rooms: list[Room], building: str
) -> None:
    key = f"{plan.letter}:{ordinal}"
    x0 = plan.x0
    level = _level(
        w, f"level:{key}", (x0, 0.0, x0 + WIDTH, DEPTH), ordinal, LEVEL_NAMES[ordinal], [building]
    )
    core_x = x0 + WIDTH - CORE if plan.core_east else x0
    rooms_x = x0 if plan.core_east else x0 + CORE
    south, north = CORRIDOR
    _unit(
        w,
        f"corridor:{key}",
        (rooms_x, south, rooms_x + 6 * SLOT, north),
        level,
        "walkway",
        f"Couloir {plan.letter}{ordinal}",
    )
    # The core: elevator and stairs open onto the end of the corridor.
    door_x = core_x if plan.core_east else core_x + CORE
    _unit(
        w,
        f"elevator:{key}",
        (core_x, south, core_x + CORE, south + 3),
        level,
        "elevator",
        f"Ascenseur {plan.letter}",
    )
    _opening(w, f"elevator-door:{key}", (door_x, south + 0.5), (door_x, south + 2.5), level)
    _unit(
        w,
        f"stairs:{key}",
        (core_x, south + 3, core_x + CORE, north),
        level,
        "stairs",
        f"Escalier {plan.letter}",
    )
    _opening(w, f"stairs-door:{key}", (door_x, south + 3.5), (door_x, north - 0.5), level)
    taken = {slot for room in rooms for slot in range(room.slot, room.slot + room.span)}
    listed = {room.slot: room for room in rooms}
    for slot in range(1, 13):
        if slot in taken and slot not in listed:
            continue
        room = listed.get(slot, Room(slot))
        on_south = slot <= 6
        first = (slot - 1) % 6
        left = rooms_x + first * SLOT
        rect = (
            (left, 0.0, left + room.span * SLOT, south)
            if on_south
            else (left, north, left + room.span * SLOT, DEPTH)
        )
        number = f"{plan.letter}-{ordinal}{slot:02d}"
        unit = _unit(w, f"room:{number}", rect, level, room.category, number, room.alt_name)
        mid = centre(rect)[0]
        wall = south if on_south else north
        _opening(w, f"door:{number}", (mid - 0.6, wall), (mid + 0.6, wall), level)
        if room.entrance:
            facade = 0.0 if on_south else DEPTH
            _opening(
                w,
                f"entrance:{number}",
                (mid - 1.5, facade),
                (mid + 1.5, facade),
                level,
                "pedestrian.principal",
                room.entrance,
            )
        if room.service:
            anchor = w.add(
                "anchor", f"anchor:{number}", w.point(*centre(rect)), address_id=None, unit_id=unit
            )
            w.add(
                "occupant",
                f"occupant:{room.service}",
                None,
                name=fr(room.service),
                category="healthcare",
                anchor_id=anchor,
                hours=None,
                phone=None,
                website=None,
                validity=None,
                correlation_id=None,
            )
        if room.category == "foodservice":
            w.add(
                "amenity",
                f"amenity:{number}",
                w.point(*centre(rect)),
                category="foodservice",
                accessibility=None,
                name=fr(room.alt_name or number),
                alt_name=None,
                hours="Mo-Fr 07:30-18:00",
                phone=None,
                website=None,
                unit_ids=[unit],
                address_id=None,
                correlation_id=None,
            )


def _connector(w: _Writer, ordinal: int, name: str, category: str, buildings: list[str]) -> None:
    x0, x1, y0, y1 = CONNECTOR_SPAN
    rect = (x0, y0, x1, y1)
    level = _level(w, f"level:connector:{ordinal}", rect, ordinal, name, buildings)
    _unit(w, f"connector:{ordinal}", rect, level, category, name)
    for x in (x0, x1):
        _opening(w, f"connector-door:{ordinal}:{x}", (x, y0 + 0.5), (x, y1 - 0.5), level)
