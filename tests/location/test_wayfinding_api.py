"""The wayfinding pages and JSON API through the ASGI app, on the demo venue."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from hygie.demo import demo_rpps
from hygie.fhir.store import FhirStore
from hygie.location.venue import load_demo_venue
from hygie.location.venue.demo import demo_archive
from hygie.location.venue.storage import save_venue
from hygie.location.wayfinding.graph import build_graph
from hygie.location.web import AssetMarker, location_web_router
from hygie.security.context import PrincipalKind
from tests.apptest import BASE, demo_settings, sign_in


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    settings = demo_settings(tmp_path / "data")
    with TestClient(create_app(settings, database=database), base_url=BASE) as test_client:
        sign_in(test_client)
        yield test_client


@pytest.fixture
def locations(database: Database) -> dict[str, str]:
    return load_demo_venue(database, FhirStore(database)).locations


def test_the_api_returns_a_route_with_instructions(
    client: TestClient, locations: dict[str, str]
) -> None:
    response = client.get(
        "/api/location/route",
        params={
            "from": "Accueil principal",
            "to": "Consultations de cardiologie",
            "accessible": "true",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["accessible"] is True
    assert body["speed_m_s"] == 0.8
    assert body["levels"] == [0, 1]
    assert "Prenez l'ascenseur jusqu'au niveau 1." in [i["text"] for i in body["instructions"]]
    assert body["distance_m"] > 50
    assert all(5.7 < p["lon"] < 5.8 and 45.1 < p["lat"] < 45.3 for p in body["path"])


def test_a_fhir_location_is_a_destination(client: TestClient, locations: dict[str, str]) -> None:
    """An appointment's Location (here the cardiology service) is enough to be guided there."""
    cardiology = next(
        o["id"]
        for o in demo_archive().of_type("occupant")
        if o["properties"]["name"]["fr"] == "Consultations de cardiologie"
    )
    response = client.get(
        "/api/location/route",
        params={"from": "Accueil principal", "to": f"Location/{locations[cardiology]}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["to"] == "Consultations de cardiologie (A-112)"


def test_api_errors_are_precise(client: TestClient, locations: dict[str, str]) -> None:
    unknown = client.get("/api/location/route", params={"from": "Accueil principal", "to": "Zoo"})
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "unknown_place",
        "message": "Lieu inconnu : « Zoo ».",
        "parameter": "to",
        "value": "Zoo",
    }
    missing = client.get("/api/location/route", params={"to": "Radiologie"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "missing_parameter"


def test_the_plan_page_draws_the_route(client: TestClient, locations: dict[str, str]) -> None:
    page = client.get("/plan", params={"depart": "Accueil principal", "destination": "Radiologie"})
    assert page.status_code == 200
    assert '<path class="route"' in page.text
    assert "Itinéraire vers Radiologie (B-007)" in page.text
    assert "galerie de liaison" in page.text
    assert page.text.count("<svg") == 1  # one level: the ground floor


def test_an_unknown_destination_page_is_a_french_404(
    client: TestClient, locations: dict[str, str]
) -> None:
    page = client.get("/plan", params={"depart": "Accueil principal", "destination": "Zoo"})
    assert page.status_code == 404
    assert "Lieu inconnu : « Zoo »." in page.text
    assert 'role="alert"' in page.text


def test_the_staff_page_lists_units_of_a_level(
    client: TestClient, locations: dict[str, str]
) -> None:
    assert client.get("/plan/personnel").status_code == 403  # a patient is not staff
    sign_in(
        client,
        PrincipalKind.PRACTITIONER,
        username="infirmiere.test",
        fhir_ref="Practitioner/test",
        organization_ref="Organization/chu",
        rpps=demo_rpps(1),
        roles=frozenset({"nurse"}),
    )
    page = client.get("/plan/personnel")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "<td>A-001 \N{EN DASH} Hall d'accueil</td><td>Hall</td><td>Accueil</td>" in text
    assert 'aria-labelledby="plan-staff-t plan-staff-d"' in text


def test_the_staff_map_draws_the_markers_it_is_given(database: Database) -> None:
    """The hook asset tracking uses: a marker source, asked for the level on screen."""
    with database.write() as conn:
        save_venue(conn, demo_archive())
    graph = build_graph(demo_archive())
    level = next(lv.id for lv in graph.levels.values() if lv.name == "Niveau 1")
    lon, lat = graph.frame.to_lonlat(*graph.units[next(iter(graph.unit_openings))].centre)
    asked: list[str] = []

    def markers(level_id: str) -> list[AssetMarker]:
        asked.append(level_id)
        return [AssetMarker("Pousse-seringue PS-12", level_id, lon, lat, "device", "en service")]

    app = FastAPI()
    app.include_router(location_web_router(database, asset_markers=markers))
    with TestClient(app) as test_client:
        page = test_client.get("/plan/personnel", params={"level": level})
    assert page.status_code == 200
    assert asked == [level]
    assert "Pousse-seringue PS-12 (en service)" in page.text
    assert 'class="pin marker marker-device"' in page.text


def test_before_any_venue_is_imported_pages_and_api_say_so(client: TestClient) -> None:
    page = client.get("/plan")
    assert page.status_code == 404
    assert "Aucun plan n&#39;a encore été importé." in page.text
    api = client.get("/api/location/route", params={"from": "Accueil", "to": "Radiologie"})
    assert api.status_code == 404
    assert api.json()["error"] == "unknown_venue"
