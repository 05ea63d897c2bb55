"""The IMDF 1.0.0 category vocabularies that Hygie checks on import.

Unit, opening, venue, building and level categories are checked against the full lists of
the specification. Amenity and occupant vocabularies are long and grow between releases, so
they are only checked for the category syntax (lower-case words joined by dots).
"""

from __future__ import annotations

import re

UNIT = frozenset(
    [
        "auditorium",
        "brick",
        "classroom",
        "column",
        "concrete",
        "conferenceroom",
        "drywall",
        "elevator",
        "escalator",
        "fieldofplay",
        "firstaid",
        "fitnessroom",
        "foodservice",
        "footbridge",
        "glass",
        "huddleroom",
        "kitchen",
        "laboratory",
        "library",
        "lobby",
        "lounge",
        "mailroom",
        "mothersroom",
        "movietheater",
        "movingwalkway",
        "nonpublic",
        "office",
        "opentobelow",
        "parking",
        "phoneroom",
        "platform",
        "privatelounge",
        "ramp",
        "recreation",
        "restroom",
        "restroom.family",
        "restroom.female",
        "restroom.female.wheelchair",
        "restroom.male",
        "restroom.male.wheelchair",
        "restroom.transgender",
        "restroom.transgender.wheelchair",
        "restroom.unisex",
        "restroom.unisex.wheelchair",
        "restroom.wheelchair",
        "road",
        "room",
        "serverroom",
        "shower",
        "smokingarea",
        "stairs",
        "steps",
        "storage",
        "structure",
        "terrace",
        "theater",
        "unenclosedarea",
        "unspecified",
        "vegetation",
        "waitingroom",
        "walkway",
        "walkway.island",
        "wheelchairramp",
    ]
)
OPENING = frozenset(
    [
        "automobile",
        "bicycle",
        "emergencyexit",
        "pedestrian",
        "pedestrian.principal",
        "pedestrian.transit",
        "service",
    ]
)
VENUE = frozenset(
    [
        "airport",
        "airport.intl",
        "aquarium",
        "businesscampus",
        "casino",
        "communitycenter",
        "conventioncenter",
        "governmentfacility",
        "healthcarefacility",
        "hotel",
        "museum",
        "parkingfacility",
        "resort",
        "retailstore",
        "shoppingcenter",
        "stadium",
        "stripmall",
        "theater",
        "themepark",
        "trainstation",
        "transitstation",
        "university",
    ]
)
BUILDING = frozenset(["parking", "transit", "transit.bus", "transit.train", "unspecified"])
LEVEL = frozenset(["parking", "transit", "transit.bus", "transit.train", "unspecified"])

_SYNTAX = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*$")


def is_category_syntax(value: str) -> bool:
    return bool(_SYNTAX.match(value))
