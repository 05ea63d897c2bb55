"""IMDF archives: the demo is valid, files round-trip, and bad archives are refused precisely."""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import orjson
import pytest

from hygie.location.venue.archive_io import read_archive, write_directory, write_zip
from hygie.location.venue.demo import demo_archive
from hygie.location.venue.errors import ImdfError
from hygie.location.venue.model import ImdfArchive, label
from hygie.location.venue.validation import validate


def unit_named(archive: ImdfArchive, name: str) -> dict:  # type: ignore[type-arg]
    return next(u for u in archive.of_type("unit") if label(u["properties"]["name"]) == name)


def test_the_demo_hospital_is_a_valid_imdf_venue_with_two_buildings() -> None:
    archive = demo_archive()
    validate(archive)
    assert archive.name == "CHU Hygie"
    assert archive.venue["properties"]["category"] == "healthcarefacility"
    buildings = sorted(label(b["properties"]["name"]) or "" for b in archive.of_type("building"))
    assert buildings == [
        "Bâtiment A \N{EN DASH} Consultations",
        "Bâtiment B \N{EN DASH} Plateau technique",
    ]
    services = {label(o["properties"]["name"]) for o in archive.of_type("occupant")}
    assert {"Accueil", "Radiologie", "Urgences", "Bloc opératoire"} <= services
    assert "Consultations de cardiologie" in services
    categories = {u["properties"]["category"] for u in archive.of_type("unit")}
    assert {"room", "elevator", "stairs", "walkway", "footbridge"} <= categories
    assert unit_named(archive, "A-112")["properties"]["category"] == "waitingroom"


def test_a_zip_export_reads_back_as_the_same_archive() -> None:
    archive = demo_archive()
    data = write_zip(archive)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {"manifest.json", "venue.geojson", "level.geojson", "unit.geojson"} <= names
    again = read_archive(data)
    assert again.manifest == archive.manifest
    assert again.features == archive.features
    assert write_zip(again) == data  # deterministic bytes


def test_a_directory_export_reads_back_as_the_same_archive(tmp_path: Path) -> None:
    archive = demo_archive()
    write_directory(archive, tmp_path / "imdf")
    unit_file = orjson.loads((tmp_path / "imdf" / "unit.geojson").read_bytes())
    assert unit_file["type"] == "FeatureCollection"
    assert read_archive(tmp_path / "imdf").features == archive.features


def test_a_zip_with_files_in_a_folder_is_read() -> None:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(write_zip(demo_archive())))
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in source.namelist():
            zf.writestr(f"CHU/{name}", source.read(name))
    assert read_archive(buffer.getvalue()).name == "CHU Hygie"


def broken(change: str) -> ImdfArchive:
    """The demo with one defect; ``change`` names it."""
    archive = copy.deepcopy(demo_archive())
    room = unit_named(archive, "A-112")
    if change == "missing level_id":
        del room["properties"]["level_id"]
    elif change == "unknown category":
        room["properties"]["category"] = "bedroom"
    elif change == "dangling level":
        room["properties"]["level_id"] = "no-such-level"
    elif change == "point geometry":
        room["geometry"] = {"type": "Point", "coordinates": [5.75, 45.2]}
    elif change == "bow tie":
        ring = room["geometry"]["coordinates"][0]
        ring[1], ring[2] = ring[2], ring[1]
    elif change == "open ring":
        room["geometry"]["coordinates"][0].pop()
    return archive


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("missing level_id", "missing required property 'level_id'"),
        ("unknown category", "unknown unit category 'bedroom'"),
        ("dangling level", "level_id 'no-such-level' does not match any level feature"),
        ("point geometry", "geometry must be Polygon or MultiPolygon, not 'Point'"),
        ("bow tie", "invalid polygon: the ring crosses itself"),
        ("open ring", "invalid polygon: a polygon ring must end with its first position"),
    ],
)
def test_a_defect_is_reported_with_file_feature_and_problem(change: str, expected: str) -> None:
    archive = broken(change)
    room_id = unit_named(demo_archive(), "A-112")["id"]
    with pytest.raises(ImdfError) as caught:
        validate(archive)
    problems = caught.value.problems
    assert [(p.file, p.feature_id) for p in problems] == [("unit.geojson", room_id)]
    assert expected in problems[0].message
    assert f"unit.geojson: feature {room_id}: {expected}" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    archive = broken("unknown category")
    anchor = archive.of_type("anchor")[0]
    anchor["properties"]["unit_id"] = "gone"
    with pytest.raises(ImdfError) as caught:
        validate(archive)
    assert {p.file for p in caught.value.problems} == {"unit.geojson", "anchor.geojson"}


def test_unreadable_archives_are_refused_by_file() -> None:
    with pytest.raises(ImdfError, match="not a zip file"):
        read_archive(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("unit.geojson", "{not json")
    with pytest.raises(ImdfError) as caught:
        read_archive(buffer.getvalue())
    assert caught.value.problems[0].file == "unit.geojson"
    assert "not valid JSON" in caught.value.problems[0].message


def test_an_archive_without_units_or_manifest_version_is_refused() -> None:
    archive = demo_archive()
    archive.features.pop("unit")
    archive.features.pop("opening")
    archive.features.pop("anchor")
    archive.features.pop("occupant")
    archive.features.pop("amenity")
    archive.manifest.pop("version")
    with pytest.raises(ImdfError) as caught:
        validate(archive)
    found = {(p.file, p.message) for p in caught.value.problems}
    assert ("unit.geojson", "missing or empty") in found
    assert ("manifest.json", "missing property 'version'") in found
