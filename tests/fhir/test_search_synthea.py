"""Searches over a Synthea patient record loaded as the transaction Bundle it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from hygie.db.engine import Database
from hygie.fhir.importer import import_file
from hygie.fhir.store import FhirStore
from tests.conftest import backends
from tests.fhir.test_search_examples import FHIR_BASE, ids, refs, search

RECORD = "smart_Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"


@pytest.fixture(scope="module")
def record_path(shared_data: Path) -> Path:
    path = shared_data / "fhir" / "synthea-r4" / RECORD
    assert path.is_file(), f"Synthea record missing: {path}"
    return path


@pytest.fixture(scope="module")
def record(record_path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in orjson.loads(record_path.read_bytes())["entry"]]


@pytest.fixture
def store(database: Database, record_path: Path) -> FhirStore:
    store = FhirStore(database)
    import_file(store, record_path, FHIR_BASE)
    return store


def of_type(record: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in record if r["resourceType"] == resource_type]


@backends
def test_searches_over_a_patient_record(store: FhirStore, record: list[dict[str, Any]]) -> None:
    """One load per backend (a record is slow to import), several searches a user runs."""
    found = search(store, "Patient?family=kreiger&given=clem")
    assert len(ids(found)) == 1
    patient_id = ids(found)[0]
    observations = of_type(record, "Observation")
    every = search(store, f"Observation?patient=Patient/{patient_id}&_count=100&_total=accurate")
    assert every["total"] == len(observations) == len(ids(every))
    chained = search(store, "Observation?subject:Patient.family=KREIGER&_total=accurate")
    assert chained["total"] == len(observations)
    with_obs = search(store, f"Patient?_id={patient_id}&_revinclude=Observation:subject")
    assert len(refs(with_obs, "include")) == len(observations)
    _value_quantity_above_100(store, record)
    _codes_dates_and_sorting(store, record)


def _value_quantity_above_100(store: FhirStore, record: list[dict[str, Any]]) -> None:
    above = {
        (o["effectiveDateTime"], o["valueQuantity"]["value"])
        for o in of_type(record, "Observation")
        if "valueQuantity" in o and o["valueQuantity"]["value"] > 100
    }
    assert above, "the record has values above 100"
    found = search(store, "Observation?value-quantity=gt100&_count=100")
    got = {
        (e["resource"]["effectiveDateTime"], e["resource"]["valueQuantity"]["value"])
        for e in found["entry"]
    }
    assert got == above


def _codes_dates_and_sorting(store: FhirStore, record: list[dict[str, Any]]) -> None:
    height = [
        o
        for o in of_type(record, "Observation")
        if any(c["code"] == "8302-2" for c in o["code"]["coding"])
    ]
    newest = search(store, "Observation?code=http://loinc.org|8302-2&_sort=-date")
    assert [e["resource"]["effectiveDateTime"] for e in newest["entry"]] == sorted(
        (o["effectiveDateTime"] for o in height), reverse=True
    )
    year = height[0]["effectiveDateTime"][:4]
    in_year = search(store, f"Observation?code=8302-2&date={year}")
    assert {e["resource"]["effectiveDateTime"][:4] for e in in_year["entry"]} == {year}
    encounters = search(store, "Observation?code=8302-2&_include=Observation:encounter")
    assert len(refs(encounters, "include")) == len({o["encounter"]["reference"] for o in height})
