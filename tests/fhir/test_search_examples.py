"""Searches a user runs, over the official HL7 R4 examples, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from hygie.db.engine import Database
from hygie.fhir.errors import FhirError
from hygie.fhir.search import execute_search, find_matches, parse_search, searchset_bundle
from hygie.fhir.store import FhirStore
from tests.conftest import backends

FHIR_BASE = "http://127.0.0.1:8000/fhir"
SUBSETTED = "SUBSETTED"
SEARCHED_TYPES = {"Patient", "Observation", "Encounter", "Organization", "Practitioner"}


def search(store: FhirStore, url: str, *, strict: bool = False, count: int = 20) -> dict[str, Any]:
    """What GET [base]/url answers: "Patient?family=x" -> the searchset Bundle."""
    resource_type, _, query = url.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    parsed = parse_search(
        resource_type,
        params,
        store.registry,
        strict=strict,
        default_count=count,
        max_count=100,
    )
    with store.database.read() as conn:
        page = execute_search(conn, parsed, store.registry)
    return searchset_bundle(page, parsed, fhir_base=FHIR_BASE)


def follow(store: FhirStore, bundle: dict[str, Any], relation: str) -> dict[str, Any] | None:
    """Fetch the bundle's ``relation`` link as a client would, or None if it has none."""
    for link in bundle["link"]:
        if link["relation"] == relation:
            parts = urlsplit(link["url"])
            assert link["url"].startswith(FHIR_BASE + "/")
            return search(store, f"{parts.path.rsplit('/', 1)[1]}?{parts.query}")
    return None


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def refs(bundle: dict[str, Any], mode: str = "match") -> set[str]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == mode
    }


@pytest.fixture(scope="module")
def examples(shared_data: Path) -> list[dict[str, Any]]:
    folder = shared_data / "fhir" / "r4-spec-examples"
    resources = [orjson.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]
    assert len(resources) >= 30, f"HL7 examples missing from {folder}"
    # the types these searches touch; the other examples only slow the loading down
    return [r for r in resources if r["resourceType"] in SEARCHED_TYPES]


@pytest.fixture
def store(database: Database, examples: list[dict[str, Any]]) -> FhirStore:
    """The HL7 examples under their own ids (PUT), as the spec's references expect."""
    store = FhirStore(database)
    for resource in examples:
        store.update(resource["resourceType"], resource["id"], resource)
    return store


def observations(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in examples if r["resourceType"] == "Observation"]


@backends
def test_string_search_is_case_and_accent_insensitive_starts_with(store: FhirStore) -> None:
    helene = store.create(
        {
            "resourceType": "Patient",
            "name": [{"family": "Lefèvre", "given": ["Hélène"]}],
        }
    ).stored.id
    assert ids(search(store, "Patient?family=chalmers")) == ["example"]
    assert ids(search(store, "Patient?family=Chalmers")) == ["example"]
    assert ids(search(store, "Patient?family=CHAL")) == ["example"]
    assert ids(search(store, "Patient?family=almers")) == []
    assert ids(search(store, "Patient?family:contains=almer")) == ["example"]
    assert ids(search(store, "Patient?name=helene")) == [helene]
    assert ids(search(store, "Patient?given=HELENE&family=lefevre")) == [helene]
    assert ids(search(store, "Patient?family:exact=Lefèvre")) == [helene]
    assert ids(search(store, "Patient?family:exact=lefevre")) == []
    assert ids(search(store, "Patient?family=windsor")) == ["example"]  # the maiden name too
    # LIKE wildcards in a value are literal characters, not patterns
    assert ids(search(store, "Patient?family=%25")) == []
    assert ids(search(store, "Patient?family=ch_lmers")) == []


@backends
def test_token_search(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    assert ids(search(store, "Observation?code=http://loinc.org|8867-4")) == ["heart-rate"]
    assert ids(search(store, "Observation?code=8867-4")) == ["heart-rate"]
    assert ids(search(store, "Observation?code=http://snomed.info/sct|8867-4")) == []
    assert ids(search(store, "Observation?code=|8867-4")) == []  # LOINC codes have a system
    either = search(store, "Observation?code=http://loinc.org|8867-4,http://loinc.org|9279-1")
    assert sorted(ids(either)) == ["heart-rate", "respiratory-rate"]
    both = "Observation?code=http://loinc.org|2708-6&code=urn:iso:std:iso:11073:10101|150456"
    assert ids(search(store, both)) == ["satO2"]
    loinc = {
        o["id"]
        for o in observations(examples)
        if any(c.get("system") == "http://loinc.org" for c in o["code"]["coding"])
    }
    assert set(ids(search(store, "Observation?code=http://loinc.org|"))) == loinc
    everything = {o["id"] for o in observations(examples)}
    not_heart = set(ids(search(store, "Observation?code:not=http://loinc.org|8867-4")))
    assert not_heart == everything - {"heart-rate"}
    assert ids(search(store, "Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|12345")) == [
        "example"
    ]
    assert ids(search(store, "Patient?gender=male&active=true")) == ["example"]
    # two terms on the same index table: the second probes the rows the first found
    assert ids(search(store, "Observation?code=8867-4&category=vital-signs")) == ["heart-rate"]
    assert ids(search(store, "Observation?code=8867-4&category=laboratory")) == []


@backends
def test_reference_search(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    of_example = {
        o["id"] for o in observations(examples) if o["subject"]["reference"] == "Patient/example"
    }
    assert len(of_example) >= 5
    for query in (
        "Observation?patient=example",
        "Observation?patient=Patient/example",
        "Observation?subject:Patient=example",
        "Observation?subject=Patient/example",
    ):
        assert set(ids(search(store, query))) == of_example, query
    assert ids(search(store, "Observation?subject=Patient/f001")) == ["ekg"]
    assert ids(search(store, "Observation?patient=nobody")) == []


@backends
def test_chained_search_reads_the_target(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    of_example = {
        o["id"] for o in observations(examples) if o["subject"]["reference"] == "Patient/example"
    }
    assert set(ids(search(store, "Observation?subject:Patient.family=chalmers"))) == of_example
    assert set(ids(search(store, "Observation?patient.name=peter"))) == of_example
    chained = "Observation?patient.identifier=urn:oid:1.2.36.146.595.217.0.1|12345&code=8867-4"
    assert ids(search(store, chained)) == ["heart-rate"]
    assert ids(search(store, "Observation?patient.name=nobody")) == []
    # a deleted patient no longer satisfies the chain
    store.delete("Patient", "example")
    assert ids(search(store, "Observation?subject:Patient.family=chalmers")) == []


@backends
def test_date_prefixes_on_real_effective_dates(store: FhirStore) -> None:
    # heart-rate, body-temperature, respiratory-rate and vitals-panel: 1999-07-02;
    # blood-pressure 2012-09-17; satO2 2014-12-05T09:30:10+01:00; ekg 2015-02-19T09:30:35+01:00
    july_1999 = ["body-temperature", "heart-rate", "respiratory-rate", "vitals-panel"]
    cases = {
        "date=1999-07-02": july_1999,
        "date=1999": july_1999,
        "date=eq1999-07": july_1999,
        "date=lt2000": july_1999,
        "date=eb2012-09-17": july_1999,
        "date=le2012-09-17": [*july_1999, "blood-pressure"],
        "date=gt2012-09-17": ["ekg", "satO2"],
        "date=sa2012": ["ekg", "satO2"],
        "date=ge2014-12-05": ["ekg", "satO2"],
        "date=2014-12-05T08:30:10Z": ["satO2"],  # the same instant as +01:00 09:30:10
        "date=2014-12-05T09:30:10": [],  # no zone: taken as UTC, an hour later
        "date=ne1999-07-02": ["blood-pressure", "ekg", "satO2"],
        "date=gt2000&date=lt2014": ["blood-pressure"],
        "date=1999,2015": [*july_1999, "ekg"],
        "date=gt2020": [],
    }
    for query, expected in cases.items():
        assert sorted(ids(search(store, f"Observation?{query}"))) == sorted(expected), query
    assert ids(search(store, "Patient?birthdate=1974-12-25")) == ["example"]
    assert ids(search(store, "Patient?birthdate=ap1974-12-20")) == ["example"]  # within 10%
    assert ids(search(store, "Patient?birthdate=ap2020-01-01")) == []


@backends
def test_quantity_prefixes_and_units(store: FhirStore) -> None:
    # heart-rate 44 /min, respiratory-rate 26 /min, body-temperature 36.5 Cel, satO2 95 %
    cases = {
        "value-quantity=gt40": ["heart-rate", "satO2"],
        "value-quantity=lt30": ["respiratory-rate"],
        "value-quantity=le26": ["respiratory-rate"],
        "value-quantity=ge95": ["satO2"],
        "value-quantity=44": ["heart-rate"],
        "value-quantity=44|http://unitsofmeasure.org|/min": ["heart-rate"],
        "value-quantity=44|http://unitsofmeasure.org|%25": [],
        "value-quantity=36.5||Cel": ["body-temperature"],
        "value-quantity=36.5": ["body-temperature"],
        "value-quantity=26": ["respiratory-rate"],
        "value-quantity=ap40": ["body-temperature", "heart-rate"],  # within 10% of 40
        "value-quantity=ap50": [],
        "value-quantity=gt100": [],
        "value-quantity=lt30,gt90": ["respiratory-rate", "satO2"],
    }
    for query, expected in cases.items():
        assert sorted(ids(search(store, f"Observation?{query}"))) == sorted(expected), query


@backends
def test_missing_modifier(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    # ekg's valueSampledData is left out: whether its origin counts as a quantity is moot
    plain = [o for o in observations(examples) if "valueSampledData" not in o]
    with_value = {o["id"] for o in plain if "valueQuantity" in o}
    without = {o["id"] for o in plain} - with_value
    assert with_value and without
    only = "_id=" + ",".join(o["id"] for o in plain)
    found = search(store, f"Observation?value-quantity:missing=false&{only}")
    assert set(ids(found)) == with_value
    found = search(store, f"Observation?value-quantity:missing=true&{only}")
    assert set(ids(found)) == without
    assert ids(search(store, "Patient?birthdate:missing=true")) == []
    assert ids(search(store, "Patient?birthdate:missing=false")) == ["example"]


@backends
def test_id_and_last_updated(store: FhirStore) -> None:
    assert sorted(ids(search(store, "Observation?_id=heart-rate,satO2"))) == ["heart-rate", "satO2"]
    assert "heart-rate" not in ids(search(store, "Observation?_id:not=heart-rate"))
    touched = store.update(
        "Patient", "example", {**store.read("Patient", "example").resource(), "active": False}
    ).stored
    since = touched.last_modified
    assert ids(search(store, f"Patient?_lastUpdated=ge{since}")) == ["example"]
    assert ids(search(store, f"Patient?_lastUpdated=gt{since}")) == []
    assert ids(search(store, "Patient?_lastUpdated=lt2000")) == []


@backends
def test_sort_on_several_keys_with_missing_values_last(
    store: FhirStore, examples: list[dict[str, Any]]
) -> None:
    by_date = search(store, "Observation?_sort=date,_id&_total=accurate")
    found = ids(by_date)
    assert found[:4] == ["body-temperature", "heart-rate", "respiratory-rate", "vitals-panel"]
    assert found[4:] == ["blood-pressure", "satO2", "ekg"]
    newest_first = ids(search(store, "Observation?_sort=-date,-_id"))
    assert newest_first == ["ekg", "satO2", "blood-pressure", *reversed(found[:4])]
    values = {
        o["id"]: o["valueQuantity"]["value"] for o in observations(examples) if "valueQuantity" in o
    }
    plain = ",".join(o["id"] for o in observations(examples) if "valueSampledData" not in o)
    by_value = ids(search(store, f"Observation?_sort=value-quantity&_id={plain}"))
    assert by_value[: len(values)] == sorted(values, key=values.__getitem__)
    assert set(by_value[len(values) :]) == set(plain.split(",")) - set(values)  # missing: last
    by_value_desc = ids(search(store, f"Observation?_sort=-value-quantity&_id={plain}"))
    assert by_value_desc[: len(values)] == sorted(values, key=values.__getitem__, reverse=True)
    by_code = ids(search(store, "Observation?_sort=code&_id=heart-rate,body-temperature,satO2"))
    assert by_code == ["satO2", "body-temperature", "heart-rate"]  # 150456 < 8310-5 < 8867-4


@backends
def test_include_and_revinclude(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    heart = search(store, "Observation?code=8867-4&_include=Observation:subject")
    assert ids(heart) == ["heart-rate"] and refs(heart, "include") == {"Patient/example"}
    typed = search(store, "Observation?_id=ekg,heart-rate&_include=Observation:subject:Patient")
    assert refs(typed, "include") == {"Patient/example"}  # Patient/f001 is not in the store
    everything = search(store, "Observation?_id=heart-rate&_include=Observation:*")
    assert "Patient/example" in refs(everything, "include")

    patient = search(store, "Patient?_id=example&_revinclude=Observation:subject")
    of_example = {
        f"Observation/{o['id']}"
        for o in observations(examples)
        if o["subject"]["reference"] == "Patient/example"
    }
    assert ids(patient) == ["example"] and refs(patient, "include") == of_example
    assert patient["total"] == 1  # includes are not counted
    entry = next(e for e in patient["entry"] if e["search"]["mode"] == "include")
    assert (
        entry["fullUrl"]
        == f"{FHIR_BASE}/{entry['resource']['resourceType']}/{entry['resource']['id']}"
    )

    # :iterate follows the included patient to its managing organization (Organization/1,
    # not stored) and encounters' subjects; the plain include does not iterate
    iterated = search(
        store,
        "Encounter?_id=example&_include=Encounter:subject&_include:iterate=Patient:general-practitioner"
        "&_revinclude:iterate=Observation:subject",
    )
    assert "Patient/example" in refs(iterated, "include")
    assert of_example <= refs(iterated, "include")


@backends
def test_summary_count_and_count_zero(store: FhirStore, examples: list[dict[str, Any]]) -> None:
    expected = len(observations(examples))
    counted = search(store, "Observation?_summary=count")
    assert counted["total"] == expected and "entry" not in counted
    zero = search(store, "Observation?_count=0")
    assert zero["total"] == expected and "entry" not in zero
    assert not any(link["relation"] == "next" for link in zero["link"])
    assert "total" not in search(store, "Observation?_total=none")


@backends
def test_elements_and_summary_subset_the_matches(store: FhirStore) -> None:
    bundle = search(store, "Patient?_id=example&_elements=name,deceased")
    patient = bundle["entry"][0]["resource"]
    assert set(patient) == {"resourceType", "id", "meta", "name", "deceasedBoolean"}
    assert {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
        "code": SUBSETTED,
        "display": "subsetted",
    } in patient["meta"]["tag"]

    summary = search(store, "Patient?_id=example&_summary=true")["entry"][0]["resource"]
    assert "name" in summary and "birthDate" in summary
    assert "contact" not in summary and "text" not in summary  # not summary elements
    assert any(t["code"] == SUBSETTED for t in summary["meta"]["tag"])

    text = search(store, "Observation?_id=heart-rate&_summary=text")["entry"][0]["resource"]
    assert set(text) == {"resourceType", "id", "meta", "text", "status", "code"}  # + mandatory
    data = search(store, "Observation?_id=heart-rate&_summary=data")["entry"][0]["resource"]
    assert "text" not in data and data["valueQuantity"]["value"] == 44

    full = search(store, "Patient?_id=example&_revinclude=Observation:subject&_elements=id")
    included = [e["resource"] for e in full["entry"] if e["search"]["mode"] == "include"]
    assert all("code" in o for o in included)  # includes are returned whole


@backends
def test_bundle_shape_and_links(store: FhirStore) -> None:
    bundle = search(store, "Observation?patient=example&utm_source=mail&_count=2")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 6
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert links["self"] == f"{FHIR_BASE}/Observation?patient=example&_count=2"
    assert "utm_source" not in links["next"] and "_cursor=" in links["next"]
    first = bundle["entry"][0]
    assert first["fullUrl"] == f"{FHIR_BASE}/Observation/{first['resource']['id']}"
    assert first["search"] == {"mode": "match"}


@backends
def test_strict_handling_refuses_what_lenient_ignores(store: FhirStore) -> None:
    lenient = search(store, "Patient?family=chalmers&colour=blue")
    assert ids(lenient) == ["example"]
    with pytest.raises(FhirError) as error:
        search(store, "Patient?family=chalmers&colour=blue", strict=True)
    assert error.value.status == 400 and "colour" in str(error.value)


@backends
def test_deleted_resources_never_match(store: FhirStore) -> None:
    store.delete("Observation", "heart-rate")
    assert ids(search(store, "Observation?code=8867-4")) == []
    assert "heart-rate" not in ids(search(store, "Observation?_count=100"))
    assert "heart-rate" not in ids(search(store, "Observation?_id=heart-rate"))
    assert "Observation/heart-rate" not in refs(
        search(store, "Patient?_id=example&_revinclude=Observation:subject"), "include"
    )


@backends
def test_find_matches_for_conditional_operations(store: FhirStore) -> None:
    with store.database.read() as conn:
        found = find_matches(
            conn, "Patient", "identifier=urn:oid:1.2.36.146.595.217.0.1|12345", store.registry
        )
        assert [m.id for m in found] == ["example"]
        assert find_matches(conn, "Patient", "family=nobody", store.registry) == []
        two = find_matches(conn, "Observation", "patient=example", store.registry)
        assert len(two) == 2  # enough to tell "more than one"
        for bad in ("", "   ", "_count=1", "colour=blue", "birthdate=someday"):
            with pytest.raises(FhirError) as error:
                find_matches(conn, "Patient", bad, store.registry)
            assert error.value.status == 400, bad
