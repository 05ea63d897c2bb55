"""Level maps as inline SVG, drawn from the venue graph: no tiles, no JavaScript.

The viewBox is in metres of the venue's local frame (y flipped so north is up), the same
for every level so that maps of different levels line up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from markupsafe import Markup

from hygie.location.venue.geometry import Point
from hygie.location.wayfinding.graph import UnitInfo, VenueGraph
from hygie.location.wayfinding.route import Route
from hygie.location.web.markers import AssetMarker

PADDING_M = 4.0
LABEL_MIN_WIDTH_M = 6.0
_FILL = {
    "walkway": "corridor",
    "footbridge": "corridor",
    "lobby": "hall",
    "waitingroom": "hall",
    "elevator": "elevator",
    "stairs": "stairs",
    "escalator": "stairs",
    "nonpublic": "restricted",
}


def _bounds(graph: VenueGraph) -> tuple[float, float, float, float]:
    xs = [p[0] for u in graph.units.values() for ring in u.rings for p in ring]
    ys = [p[1] for u in graph.units.values() for ring in u.rings for p in ring]
    return min(xs) - PADDING_M, min(ys) - PADDING_M, max(xs) + PADDING_M, max(ys) + PADDING_M


class _Canvas:
    def __init__(self, graph: VenueGraph) -> None:
        self.graph = graph
        self.x0, self.y0, self.x1, self.y1 = _bounds(graph)

    def xy(self, p: Point) -> tuple[str, str]:
        return f"{p[0] - self.x0:.2f}", f"{self.y1 - p[1]:.2f}"

    def pt(self, p: Point) -> str:
        return ",".join(self.xy(p))

    def open(self, title: str, description: str, element_id: str) -> str:
        width, height = self.x1 - self.x0, self.y1 - self.y0
        return (
            f'<svg class="plan" viewBox="0 0 {width:.1f} {height:.1f}" role="img" '
            f'aria-labelledby="{element_id}-t {element_id}-d" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{element_id}-t">{escape(title)}</title>'
            f'<desc id="{element_id}-d">{escape(description)}</desc>'
        )

    def unit(self, unit: UnitInfo, highlight: bool = False) -> str:
        fill = "destination" if highlight else _FILL.get(unit.category, "room")
        classes = f"unit unit-{fill}"
        shapes = "".join(
            f'<polygon class="{classes}" points="{" ".join(self.pt(p) for p in ring)}"/>'
            for ring in unit.rings
        )
        text = ""
        xs = [p[0] for ring in unit.rings for p in ring]
        # Small units (elevators, stairs) are told apart by colour; their names would overflow.
        if unit.name and not highlight and max(xs) - min(xs) >= LABEL_MIN_WIDTH_M:
            x, y = self.xy(unit.centre)
            text = f'<text class="unit-label" x="{x}" y="{y}">{escape(unit.name)}</text>'
        return shapes + text

    def openings(self, level_ids: set[str]) -> str:
        parts = []
        for opening in self.graph.openings.values():
            if opening.level_id in level_ids:
                kind = "entrance" if opening.name else "door"
                (x1, y1), (x2, y2) = self.xy(opening.a), self.xy(opening.b)
                parts.append(f'<line class="{kind}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>')
        return "".join(parts)

    def pin(self, p: Point, css: str, label: str) -> str:
        x, y = self.xy(p)
        return (
            f'<g class="{css}"><circle cx="{x}" cy="{y}" r="1.6"/>'
            f'<text class="pin-label" x="{x}" y="{float(y) - 2.4:.2f}">{escape(label)}</text></g>'
        )


def _units_on(graph: VenueGraph, level_ids: set[str]) -> Iterable[UnitInfo]:
    return (u for u in graph.units.values() if u.level_id in level_ids)


def ordinal_levels(graph: VenueGraph, ordinal: int) -> set[str]:
    return {lv.id for lv in graph.levels.values() if lv.ordinal == ordinal}


def route_level_svg(graph: VenueGraph, ordinal: int, route: Route | None = None) -> Markup:
    """Every level at ``ordinal`` (all buildings), with the part of the route on it."""
    canvas = _Canvas(graph)
    level_ids = ordinal_levels(graph, ordinal)
    name = "rez-de-chaussée" if ordinal == 0 else f"niveau {ordinal}"
    description = f"Plan du {name} de {graph.venue_name}"
    if route is not None:
        description += f", avec l'itinéraire vers {route.destination}"
    parts = [canvas.open(f"Plan du {name}", description, f"plan-niveau{ordinal}")]
    for unit in _units_on(graph, level_ids):
        parts.append(canvas.unit(unit, route is not None and unit.id == route.destination_unit_id))
    parts.append(canvas.openings(level_ids))
    if route is not None:
        parts.extend(_route_parts(canvas, route, ordinal))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside went through escape()


def _route_parts(canvas: _Canvas, route: Route, ordinal: int) -> list[str]:
    parts: list[str] = []
    runs: list[list[Point]] = []
    previous_on_level = False
    for point in route.points:
        on_level = point.ordinal == ordinal
        if on_level:
            if not previous_on_level or point.via in ("elevator", "stairs", "escalator"):
                runs.append([])
            runs[-1].append((point.x, point.y))
        previous_on_level = on_level
    for run in runs:
        if len(run) > 1:
            d = "M" + " L".join(canvas.pt(p) for p in run)
            parts.append(f'<path class="route" d="{d}"/>')
    first, last = route.points[0], route.points[-1]
    if first.ordinal == ordinal:
        parts.append(canvas.pin((first.x, first.y), "pin pin-start", "Départ"))
    if last.ordinal == ordinal:
        room = canvas.graph.units[route.destination_unit_id].name
        label = f"Arrivée : {room}" if room else "Arrivée"
        parts.append(canvas.pin((last.x, last.y), "pin pin-end", label))
    return parts


def staff_level_svg(
    graph: VenueGraph, level_id: str, markers: Sequence[AssetMarker] = ()
) -> Markup:
    """One level with its units and the given asset markers: the tracking module's hook."""
    canvas = _Canvas(graph)
    level = graph.levels[level_id]
    parts = [
        canvas.open(
            f"Plan : {level.name}",
            f"{len(markers)} équipement(s) localisé(s) sur ce niveau",
            "plan-staff",
        )
    ]
    for unit in _units_on(graph, {level_id}):
        parts.append(canvas.unit(unit))
    parts.append(canvas.openings({level_id}))
    for marker in markers:
        if marker.level_id != level_id:
            continue
        xy = graph.frame.to_xy(marker.lon, marker.lat)
        label = marker.label if marker.status is None else f"{marker.label} ({marker.status})"
        parts.append(canvas.pin(xy, f"pin marker marker-{escape(marker.kind)}", label))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside went through escape()
