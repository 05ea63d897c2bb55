"""Importing venues into the database: stored whole, linked to FHIR Locations, re-importable."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hygie.db.engine import Database
from hygie.db.schema import fhir_resource
from hygie.fhir.store import FhirStore
from hygie.location.venue import (
    ImdfError,
    export_venue,
    import_venue,
    load_demo_venue,
    read_venue,
    venues,
)
from hygie.location.venue.archive_io import read_archive
from hygie.location.venue.demo import demo_archive
from hygie.location.venue.model import label
from tests.conftest import backends


def location_count(database: Database) -> int:
    with database.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(fhir_resource.c.resource_type == "Location")
            ).scalar_one()
        )


def feature_id(name: str) -> str:
    return next(
        u["id"] for u in demo_archive().of_type("unit") if label(u["properties"]["name"]) == name
    )


@backends
def test_the_demo_venue_links_rooms_to_fhir_locations(database: Database) -> None:
    store = FhirStore(database)
    result = load_demo_venue(database, store)
    room = store.read("Location", result.locations[feature_id("A-112")]).resource()
    assert room["name"] == "A-112"
    assert room["physicalType"]["coding"][0]["code"] == "ro"
    assert room["identifier"] == [{"system": "urn:hygie:imdf", "value": feature_id("A-112")}]
    assert 5.74 < room["position"]["longitude"] < 5.76
    assert 45.19 < room["position"]["latitude"] < 45.21
    level = store.read("Location", room["partOf"]["reference"].split("/")[1]).resource()
    assert (level["name"], level["physicalType"]["coding"][0]["code"]) == ("Niveau 1", "lvl")
    building = store.read("Location", level["partOf"]["reference"].split("/")[1]).resource()
    assert building["name"] == "Bâtiment A \N{EN DASH} Consultations"
    assert building["physicalType"]["coding"][0]["code"] == "bu"
    assert [v.name for v in venues(database)] == ["CHU Hygie"]


@backends
def test_a_reimport_updates_the_same_locations(database: Database) -> None:
    store = FhirStore(database)
    first = load_demo_venue(database, store)
    count = location_count(database)
    archive = copy.deepcopy(demo_archive())
    room = next(u for u in archive.of_type("unit") if u["id"] == feature_id("A-112"))
    room["properties"]["name"] = {"fr": "A-112 bis"}
    second = import_venue(database, store, archive)
    assert second.locations == first.locations
    assert location_count(database) == count
    assert store.read("Location", first.locations[room["id"]]).resource()["name"] == "A-112 bis"
    assert len(venues(database)) == 1


def test_an_export_gives_back_the_imported_archive(database: Database, tmp_path: Path) -> None:
    load_demo_venue(database, FhirStore(database))
    archive = demo_archive()
    exported = read_archive(export_venue(database, archive.venue_id, tmp_path / "out"))
    assert exported.features == archive.features
    assert exported.manifest == archive.manifest
    assert read_archive(tmp_path / "out").features == archive.features
    assert read_venue(database, archive.venue_id).features == archive.features


def test_an_invalid_archive_stores_nothing(database: Database) -> None:
    archive = copy.deepcopy(demo_archive())
    archive.of_type("unit")[3]["properties"]["level_id"] = "missing"
    with pytest.raises(ImdfError, match="does not match any level feature"):
        import_venue(database, FhirStore(database), archive)
    assert venues(database) == []
    assert location_count(database) == 0
