"""Routes on the demo hospital: the path, its length and time, and the French instructions."""

from __future__ import annotations

import copy
import math

import pytest

from hygie.location.venue.demo import demo_archive
from hygie.location.venue.geometry import contains
from hygie.location.wayfinding.graph import VenueGraph, build_graph
from hygie.location.wayfinding.places import UnknownPlace, resolve_destination, resolve_origin
from hygie.location.wayfinding.route import NoRoute, Route, plan_route


@pytest.fixture(scope="module")
def graph() -> VenueGraph:
    return build_graph(demo_archive())


def route(graph: VenueGraph, origin: str, destination: str, accessible: bool = False) -> Route:
    return plan_route(
        graph,
        resolve_origin(graph, origin),
        resolve_destination(graph, destination),
        accessible=accessible,
    )


def texts(r: Route) -> list[str]:
    return [i.text for i in r.instructions]


def unit_named(graph: VenueGraph, name: str) -> str:
    return next(u.id for u in graph.units.values() if u.name == name)


def test_from_the_main_entrance_to_cardiology(graph: VenueGraph) -> None:
    r = route(graph, "Accueil principal", "Consultations de cardiologie")
    steps = texts(r)
    assert steps[0] == "Depuis Accueil principal, avancez sur 15 m."
    assert "Tournez à gauche" in steps[1]  # the hall faces north, the core is to the west
    assert any("jusqu'au niveau 1" in s for s in steps)
    assert steps[-1] == "Votre destination, Consultations de cardiologie (A-112), est à gauche."
    assert r.ordinals == [0, 1]
    a112 = graph.units[unit_named(graph, "A-112")]
    end = r.points[-1]
    assert contains(a112.rings[0], (end.x, end.y))
    # The length is the path drawn, and the time follows from the stated speed.
    drawn = sum(
        math.hypot(b.x - a.x, b.y - a.y)
        for a, b in zip(r.points, r.points[1:], strict=False)
        if b.via == "walk"
    )
    assert r.distance_m == pytest.approx(drawn + 8.0)  # plus one flight of stairs
    assert r.duration_s >= r.distance_m / r.profile.speed_m_s


def test_the_accessible_route_takes_the_elevator_and_is_slower(graph: VenueGraph) -> None:
    standard = route(graph, "Accueil principal", "Consultations de cardiologie")
    accessible = route(graph, "Accueil principal", "Consultations de cardiologie", True)
    assert "Prenez l'ascenseur jusqu'au niveau 1." in texts(accessible)
    assert not any("escalier" in s for s in texts(accessible))
    assert {p.via for p in accessible.points} <= {"start", "walk", "elevator"}
    assert accessible.profile.speed_m_s < standard.profile.speed_m_s
    assert accessible.duration_s > standard.duration_s


def test_a_route_to_the_other_building_uses_the_gallery(graph: VenueGraph) -> None:
    r = route(graph, "Accueil principal", "Radiologie")
    walk = next(s for s in texts(r) if "galerie de liaison" in s)
    assert "jusqu'au Bâtiment B \N{EN DASH} Plateau technique" in walk
    assert r.ordinals == [0]
    assert texts(r)[-1].startswith("Votre destination, Radiologie (B-007), est")


def test_a_route_between_upper_floors_takes_the_footbridge(graph: VenueGraph) -> None:
    r = route(graph, "Consultations de cardiologie", "Chirurgie \N{EN DASH} hospitalisation", True)
    assert any("passerelle" in s for s in texts(r))
    assert "Prenez l'ascenseur jusqu'au niveau 2." in texts(r)
    assert 0 not in r.ordinals  # no detour by the ground floor


def test_a_route_from_a_position_given_in_wgs84(graph: VenueGraph) -> None:
    a105 = graph.units[unit_named(graph, "A-105")]
    lon, lat = graph.frame.to_lonlat(*a105.centre)
    r = route(graph, f"geo:{lat:.7f},{lon:.7f};level=1", "A-112")
    assert r.origin == "votre position"
    assert r.ordinals == [1]
    assert texts(r)[0].startswith("Depuis votre position, avancez sur")


def test_destinations_match_names_without_accents_or_case(graph: VenueGraph) -> None:
    assert resolve_destination(graph, "consultations de CARDIOLOGIE").unit_id == unit_named(
        graph, "A-112"
    )
    assert resolve_destination(graph, "echographie").unit_id == unit_named(graph, "A-111")
    assert resolve_destination(graph, "A-112").label == "A-112 \N{EN DASH} Accueil cardiologie"


def test_an_unknown_or_ambiguous_destination_is_refused_in_french(graph: VenueGraph) -> None:
    with pytest.raises(UnknownPlace) as caught:
        resolve_destination(graph, "Maternité")
    assert caught.value.parameter == "to"
    assert caught.value.message == "Lieu inconnu : « Maternité »."
    with pytest.raises(UnknownPlace, match="plusieurs lieux"):
        resolve_destination(graph, "Toilettes")
    with pytest.raises(UnknownPlace, match="ne figure pas sur le plan"):
        resolve_destination(graph, "Location/unknown")
    with pytest.raises(UnknownPlace, match="aucun espace"):
        resolve_origin(graph, f"xy:{next(iter(graph.levels))}:1000,1000")


def test_without_elevators_there_is_no_accessible_route_upstairs() -> None:
    archive = copy.deepcopy(demo_archive())
    archive.features["unit"] = [
        u for u in archive.of_type("unit") if u["properties"]["category"] != "elevator"
    ]
    graph = build_graph(archive)
    with pytest.raises(NoRoute) as caught:
        route(graph, "Accueil principal", "Consultations de cardiologie", accessible=True)
    assert "Aucun itinéraire accessible sans escalier" in caught.value.message
    assert route(graph, "Accueil principal", "Consultations de cardiologie").ordinals == [0, 1]
