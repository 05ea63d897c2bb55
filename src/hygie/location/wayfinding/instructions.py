"""French turn-by-turn instructions for a route.

Walking is cut into stretches at every real turn (30 degrees or more); each stretch becomes
one sentence with its length, and names the gallery or footbridge it uses and the building
it leads into. Elevator and stair rides become one sentence each, whatever the number of
levels. The last sentence says on which side the destination is, relative to the way the
person is walking when they reach its door.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hygie.location.wayfinding.graph import VenueGraph

MIN_TURN_DEG = 30.0
_SHORT_M = 4.0
_MERGE_M = 8.0
_LEG_M = 3.5  # shorter walks (leaving an elevator) get no distance of their own


@dataclass(frozen=True, slots=True)
class RoutePoint:
    x: float
    y: float
    level_id: str
    ordinal: int
    via: str  # how it was reached: "start", "walk", "elevator", "stairs", "escalator"
    through_unit: str | None = None
    node_kind: str | None = None
    feature_id: str | None = None


@dataclass(frozen=True, slots=True)
class Instruction:
    text: str
    kind: str  # "walk", "elevator", "stairs", "escalator" or "arrive"
    ordinal: int
    distance_m: float | None = None


def level_phrase(ordinal: int) -> str:
    if ordinal == 0:
        return "rez-de-chaussée (niveau 0)"
    return f"niveau {ordinal}"


def turn_angle(ax: float, ay: float, bx: float, by: float) -> float:
    """Signed angle from heading a to heading b in degrees; positive turns left."""
    return math.degrees(math.atan2(ax * by - ay * bx, ax * bx + ay * by))


def turn_phrase(angle: float) -> str:
    side = "à gauche" if angle > 0 else "à droite"
    if abs(angle) >= 150:
        return "Faites demi-tour"
    if abs(angle) < 60:
        return f"Tournez légèrement {side}"
    return f"Tournez {side}"


def side_phrase(angle: float) -> str:
    if abs(angle) < MIN_TURN_DEG:
        return "droit devant vous"
    if abs(angle) >= 150:
        return "derrière vous"
    return "à gauche" if angle > 0 else "à droite"


@dataclass
class _Stretch:
    ordinal: int
    turn: float | None
    length: float = 0.0
    start_building: str | None = None
    end_building: str | None = None
    through: tuple[str, ...] = ()


def _continues_turn(stretch: _Stretch, turn: float | None) -> bool:
    """A turn right after a short stretch turning the same way is one turn (door, then
    corridor): say "tournez à gauche" once rather than "légèrement" twice."""
    return (
        stretch.turn is not None
        and turn is not None
        and stretch.length < _MERGE_M
        and (stretch.turn > 0) == (turn > 0)
    )


class _Writer:
    def __init__(self, graph: VenueGraph, origin: str) -> None:
        self.graph = graph
        self.origin = origin
        self.out: list[Instruction] = []
        self.after: str | None = None  # "ascenseur" / "escalier" just left

    def stretch(self, s: _Stretch) -> None:
        d = round(s.length)
        extras = ""
        connectors = [
            self.graph.units[u].name or "la liaison"
            for u in dict.fromkeys(s.through)
            if len(self.graph.levels[self.graph.units[u].level_id].building_ids) > 1
        ]
        if connectors:
            extras += f" en empruntant la {connectors[0][:1].lower()}{connectors[0][1:]}"
        if s.end_building and s.end_building != s.start_building:
            extras += f" jusqu'au {self.graph.buildings[s.end_building]}"
        if not self.out:
            turn = "" if s.turn is None else f"{turn_phrase(s.turn).lower()} et "
            text = f"Depuis {self.origin}, {turn}avancez sur {d} m{extras}."
        elif s.turn is not None:
            text = f"{turn_phrase(s.turn)} et avancez sur {d} m{extras}."
        elif self.after is not None:
            text = (
                f"Sortez de l'{self.after}."
                if s.length < _SHORT_M and not extras
                else f"Sortez de l'{self.after} et avancez sur {d} m{extras}."
            )
        else:
            text = f"Continuez sur {d} m{extras}."
        self.after = None
        self.out.append(Instruction(text, "walk", s.ordinal, round(s.length, 1)))

    def ride(self, kind: str, start: int, end: int) -> None:
        if kind == "elevator":
            text = f"Prenez l'ascenseur jusqu'au {level_phrase(end)}."
            self.after = "ascenseur"
        else:
            verb = "montez" if end > start else "descendez"
            noun = "l'escalier" if kind == "stairs" else "l'escalator"
            text = f"Prenez {noun} et {verb} jusqu'au {level_phrase(end)}."
            self.after = "escalier" if kind == "stairs" else "escalator"
        self.out.append(Instruction(text, kind, end))


def instructions_for(
    graph: VenueGraph, typed: list[RoutePoint], origin: str, destination: str
) -> list[Instruction]:
    writer = _Writer(graph, origin)
    if len(typed) < 2:
        return [Instruction(f"Vous êtes arrivé : {destination}.", "arrive", typed[0].ordinal)]
    moves = list(itertools.pairwise(typed))
    final = moves.pop()  # the last move enters the destination: it only tells the side
    heading: tuple[float, float] | None = None
    current: _Stretch | None = None
    i = 0
    while i < len(moves):
        a, b = moves[i]
        if b.via in ("elevator", "stairs", "escalator"):
            if current is not None:
                writer.stretch(current)
                current = None
            j = i
            while j + 1 < len(moves) and moves[j + 1][1].via == b.via:
                j += 1
            writer.ride(b.via, a.ordinal, moves[j][1].ordinal)
            heading = None
            i = j + 1
            continue
        vector = (b.x - a.x, b.y - a.y)
        length = math.hypot(*vector)
        # Short legs (a door's threshold, half a corridor) neither turn nor set the heading.
        turn = None if heading is None or length < _LEG_M else turn_angle(*heading, *vector)
        turning = turn is not None and abs(turn) >= MIN_TURN_DEG
        if current is not None and turning and _continues_turn(current, turn):
            current.turn = (current.turn or 0.0) + (turn or 0.0)
        elif current is None or turning:
            if current is not None:
                writer.stretch(current)
            current = _Stretch(a.ordinal, turn, start_building=graph.building_of(a.level_id))
        current.length += length
        current.end_building = graph.building_of(b.level_id) or current.end_building
        if b.through_unit:
            current.through += (b.through_unit,)
        if length >= _LEG_M:
            heading = vector
        i += 1
    if current is not None:
        writer.stretch(current)
    a, b = final
    entering = (b.x - a.x, b.y - a.y)
    side = "droit devant vous" if heading is None else side_phrase(turn_angle(*heading, *entering))
    writer.out.append(
        Instruction(f"Votre destination, {destination}, est {side}.", "arrive", b.ordinal)
    )
    return writer.out
