"""Search-index rows of real FHIR resources, and the fast FHIRPath evaluator against fhirpathpy."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, insert, select

from hygie.db.schema import INDEX_TABLES, metadata
from hygie.fhir.dates import date_range
from hygie.fhir.fhirpath_fallback import compile_fallback, union_operands
from hygie.fhir.fhirpath_fast import UnsupportedExpression, compile_expression, evaluate
from hygie.fhir.index_values import MAX_DATE_US, MAX_NUMBER, MIN_DATE_US, precision_range
from hygie.fhir.indexing import KINDS, Indexer, IndexRows
from hygie.fhir.references import ReferenceTarget, parse_reference
from hygie.fhir.searchparams import SearchParam, SearchParamRegistry, default_registry
from tests.conftest import SHARED_DATA

SPEC = SHARED_DATA / "fhir" / "r4-spec-examples"
# The types Hygie's modules rely on (docs/architecture.md).
CORE_TYPES = [
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Device",
    "Observation",
    "DocumentReference",
    "Binary",
    "Communication",
    "Appointment",
    "Schedule",
    "Slot",
    "Encounter",
    "Consent",
    "AuditEvent",
    "CarePlan",
    "Questionnaire",
    "QuestionnaireResponse",
    "Flag",
    "Provenance",
    "List",
    "AllergyIntolerance",
    "MedicationStatement",
    "Immunization",
    "Condition",
    "Task",
    "Endpoint",
]


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(path.read_bytes())
    return loaded


def _with_entries(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield resource
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            if "resource" in entry:
                yield entry["resource"]


SCT = "http://snomed.info/sct"
# Core types that the example data lacks, written as a Hygie client would send them.
CORE_EXTRAS: list[dict[str, Any]] = [
    {
        "resourceType": "PractitionerRole",
        "id": "pr1",
        "active": True,
        "practitioner": {"reference": "Practitioner/example"},
        "organization": {"reference": "Organization/chu-brest"},
        "code": [{"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.5", "code": "10"}]}],
        "telecom": [{"system": "email", "value": "dr.careful@chu.example"}],
        "period": {"start": "2020-01-01"},
    },
    {
        "resourceType": "Flag",
        "id": "f1",
        "status": "active",
        "code": {"text": "Risque de chute"},
        "subject": {"reference": "Patient/example"},
        "period": {"start": "2024-05-01", "end": "2024-06-01"},
        "author": {"reference": "Practitioner/example"},
    },
    {
        "resourceType": "Provenance",
        "id": "prov1",
        "target": [{"reference": "Observation/heart-rate"}, {"reference": "Patient/example"}],
        "occurredDateTime": "2024-05-02T08:00:00+02:00",
        "recorded": "2024-05-02T08:01:00.123+02:00",
        "agent": [{"who": {"reference": "Practitioner/example"}}],
    },
    {
        "resourceType": "List",
        "id": "l1",
        "status": "current",
        "mode": "working",
        "title": "Traitements en cours",
        "subject": {"reference": "Patient/example"},
        "date": "2024-05-03",
        "entry": [{"item": {"reference": "MedicationStatement/ms1"}}],
    },
    {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "patient": {"reference": "Patient/example"},
        "code": {"coding": [{"system": SCT, "code": "91936005", "display": "Penicillin"}]},
        "criticality": "high",
        "recordedDate": "2023-11-20",
        "reaction": [
            {
                "manifestation": [{"coding": [{"system": SCT, "code": "247472004"}]}],
                "severity": "severe",
                "onset": "2023-11-19T21:00:00Z",
            }
        ],
    },
    {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.whocc.no/atc", "code": "C07AB02"}]
        },
        "subject": {"reference": "Patient/example"},
        "effectivePeriod": {"start": "2024-01-15"},
    },
    {
        "resourceType": "Task",
        "id": "t1",
        "status": "requested",
        "intent": "order",
        "for": {"reference": "Patient/example"},
        "owner": {"reference": "PractitionerRole/pr1"},
        "authoredOn": "2024-05-04T09:30:00Z",
        "executionPeriod": {"start": "2024-05-05"},
    },
    {
        "resourceType": "Endpoint",
        "id": "e1",
        "status": "active",
        "name": "Messagerie sécurisée",
        "connectionType": {
            "system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
            "code": "direct-project",
        },
        "payloadType": [{"text": "CDA"}],
        "address": "mailto:service@chu.mssante.example",
    },
]


def example_resources() -> list[dict[str, Any]]:
    """The HL7 R4 examples, the French (ANS) examples and the Synthea bundles, entries included."""
    files = [
        *sorted(SPEC.glob("*.json")),
        *sorted((SHARED_DATA / "fhir-fr").glob("*/*.json")),
        *sorted((SHARED_DATA / "fhir" / "synthea-r4").glob("*.json")),
    ]
    assert len(files) >= 43, f"example data missing under {SHARED_DATA}"
    loaded = [resource for path in files for resource in _with_entries(_load(path))]
    return loaded + CORE_EXTRAS


@pytest.fixture(scope="module")
def indexer() -> Indexer:
    return Indexer(default_registry())


def rows_of(indexer: Indexer, resource: dict[str, Any], param: str) -> list[tuple[Any, ...]]:
    """The index rows of one parameter, without the parameter name."""
    return [
        row[1:]
        for rows in indexer.index(resource).by_kind().values()
        for row in rows
        if row[0] == param
    ]


def spec(name: str) -> dict[str, Any]:
    return _load(SPEC / f"{name}.json")


# -- facts a user searches for, on the HL7 examples ----------------------------------------------
def test_patient_example_is_found_by_name_birth_date_and_identifier(indexer: Indexer) -> None:
    patient = spec("patient-example")
    assert ("chalmers", "Chalmers") in rows_of(indexer, patient, "family")
    assert {("peter", "Peter"), ("james", "James"), ("jim", "Jim")} <= set(
        rows_of(indexer, patient, "given")
    )
    assert ("windsor", "Windsor") in rows_of(indexer, patient, "name")
    assert rows_of(indexer, patient, "birthdate") == [date_range("1974-12-25")]
    assert rows_of(indexer, patient, "identifier") == [("urn:oid:1.2.36.146.595.217.0.1", "12345")]
    assert rows_of(indexer, patient, "gender") == [(None, "male")]
    assert rows_of(indexer, patient, "active") == [(None, "true")]
    assert rows_of(indexer, patient, "organization") == [("Organization", "1", None)]
    assert ("pleasantville", "PleasantVille") in rows_of(indexer, patient, "address-city")
    assert (None, "(03) 5555 6473") in rows_of(indexer, patient, "phone")
    assert rows_of(indexer, patient, "email") == []


def test_living_patient_indexes_deceased_false_and_a_death_date_indexes_true(
    indexer: Indexer,
) -> None:
    patient = spec("patient-example")
    assert rows_of(indexer, patient, "deceased") == [(None, "false")]
    dead = {**patient, "deceasedDateTime": "2020-03-04"}
    del dead["deceasedBoolean"]
    assert rows_of(indexer, dead, "deceased") == [(None, "true")]
    assert rows_of(indexer, dead, "death-date") == [date_range("2020-03-04")]


def test_heart_rate_code_subject_date_and_value(indexer: Indexer) -> None:
    observation = spec("observation-example-heart-rate")
    assert rows_of(indexer, observation, "code") == [("http://loinc.org", "8867-4")]
    assert rows_of(indexer, observation, "subject") == [("Patient", "example", None)]
    assert rows_of(indexer, observation, "patient") == [("Patient", "example", None)]
    assert rows_of(indexer, observation, "date") == [date_range(observation["effectiveDateTime"])]
    assert rows_of(indexer, observation, "value-quantity") == [
        ("http://unitsofmeasure.org", "/min", 43.5, 44.5)
    ]
    assert rows_of(indexer, observation, "_profile") == [
        ("http://hl7.org/fhir/StructureDefinition/vitalsigns",)
    ]


def test_blood_pressure_components(indexer: Indexer) -> None:
    observation = spec("observation-example-bloodpressure")
    component_codes = rows_of(indexer, observation, "component-code")
    assert ("http://loinc.org", "8480-6") in component_codes
    assert ("http://loinc.org", "8462-4") in component_codes
    assert ("http://loinc.org", "85354-9") not in component_codes
    assert ("http://loinc.org", "85354-9") in rows_of(indexer, observation, "combo-code")
    assert sorted(rows_of(indexer, observation, "component-value-quantity")) == [
        ("http://unitsofmeasure.org", "mm[Hg]", 59.5, 60.5),
        ("http://unitsofmeasure.org", "mm[Hg]", 106.5, 107.5),
    ]
    assert rows_of(indexer, observation, "value-quantity") == []
    assert rows_of(indexer, observation, "performer") == [("Practitioner", "example", None)]


def test_sampled_data_is_not_a_searchable_quantity(indexer: Indexer) -> None:
    ekg = spec("observation-example-sample-data")
    assert rows_of(indexer, ekg, "component-value-quantity") == []
    assert ("urn:oid:2.16.840.1.113883.6.24", "131329") in rows_of(indexer, ekg, "component-code")


def test_practitioner_identifier_name_and_address(indexer: Indexer) -> None:
    practitioner = spec("practitioner-example")
    assert rows_of(indexer, practitioner, "identifier") == [
        ("http://www.acme.org/practitioners", "23")
    ]
    assert {("careful", "Careful"), ("adam", "Adam"), ("dr", "Dr")} == set(
        rows_of(indexer, practitioner, "name")
    )
    assert ("534 erewhon st", "534 Erewhon St") in rows_of(indexer, practitioner, "address")


def test_schedule_planning_horizon_and_appointment_participants(indexer: Indexer) -> None:
    schedule = spec("schedule-example")
    low = date_range("2013-12-25T09:15:00Z")[0]
    high = date_range("2013-12-25T09:30:00Z")[1]
    assert rows_of(indexer, schedule, "date") == [(low, high)]
    assert rows_of(indexer, schedule, "actor") == [("Location", "1", None)]
    appointment = spec("appointment-example")
    assert rows_of(indexer, appointment, "patient") == [("Patient", "example", None)]
    assert rows_of(indexer, appointment, "practitioner") == [("Practitioner", "example", None)]
    assert rows_of(indexer, appointment, "location") == [("Location", "1", None)]
    assert ("Location", "1", None) in rows_of(indexer, appointment, "actor")


def test_questionnaire_url_date_and_top_level_item_codes(indexer: Indexer) -> None:
    questionnaire = spec("questionnaire-example")
    assert rows_of(indexer, questionnaire, "url") == [("http://hl7.org/fhir/Questionnaire/3141",)]
    assert rows_of(indexer, questionnaire, "date") == [date_range("2012-01")]
    codes = rows_of(indexer, questionnaire, "code")  # Questionnaire.item.code: top level only
    assert ("http://example.org/system/code/sections", "COMORBIDITY") in codes
    assert ("http://example.org/system/code/questions", "COMORB") not in codes


def test_transaction_bundle_urn_references_keep_their_url(indexer: Indexer) -> None:
    bundle = _load(next((SHARED_DATA / "fhir" / "synthea-r4").glob("smart_Clemente*.json")))
    encounter = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    )
    (subject,) = rows_of(indexer, encounter, "subject")
    assert subject == (None, None, encounter["subject"]["reference"])
    assert subject[2].startswith("urn:uuid:")
    assert rows_of(indexer, encounter, "patient") == []  # its type is unknown until resolved


def extra(resource_type: str) -> dict[str, Any]:
    return next(r for r in CORE_EXTRAS if r["resourceType"] == resource_type)


@pytest.mark.parametrize(
    ("resource_type", "param", "expected"),
    [
        ("PractitionerRole", "practitioner", [("Practitioner", "example", None)]),
        ("PractitionerRole", "email", [(None, "dr.careful@chu.example")]),
        ("PractitionerRole", "date", [(date_range("2020-01-01")[0], MAX_DATE_US)]),
        ("Flag", "patient", [("Patient", "example", None)]),
        ("Flag", "date", [(date_range("2024-05-01")[0], date_range("2024-06-01")[1])]),
        ("Provenance", "patient", [("Patient", "example", None)]),
        ("Provenance", "when", [date_range("2024-05-02T08:00:00+02:00")]),
        ("Provenance", "recorded", [date_range("2024-05-02T08:01:00.123+02:00")]),
        ("List", "item", [("MedicationStatement", "ms1", None)]),
        ("List", "title", [("traitements en cours", "Traitements en cours")]),
        ("AllergyIntolerance", "code", [(SCT, "91936005")]),
        ("AllergyIntolerance", "severity", [(None, "severe")]),
        ("AllergyIntolerance", "onset", [date_range("2023-11-19T21:00:00Z")]),
        ("MedicationStatement", "code", [("http://www.whocc.no/atc", "C07AB02")]),
        ("MedicationStatement", "medication", []),
        ("MedicationStatement", "effective", [(date_range("2024-01-15")[0], MAX_DATE_US)]),
        ("Task", "patient", [("Patient", "example", None)]),
        ("Task", "owner", [("PractitionerRole", "pr1", None)]),
        ("Task", "period", [(date_range("2024-05-05")[0], MAX_DATE_US)]),
        ("Endpoint", "name", [("messagerie securisee", "Messagerie sécurisée")]),
        (
            "Endpoint",
            "connection-type",
            [("http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "direct-project")],
        ),
    ],
)
def test_core_types_index_their_search_parameters(
    indexer: Indexer, resource_type: str, param: str, expected: list[tuple[Any, ...]]
) -> None:
    assert rows_of(indexer, extra(resource_type), param) == expected


# -- edge cases ------------------------------------------------------------------------------
def observation(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", **elements}


def test_missing_elements_give_no_rows(indexer: Indexer) -> None:
    rows = indexer.index({"resourceType": "Observation"})
    assert rows == IndexRows([], [], [], [], [], [], [])
    assert rows.table_rows(1, "Observation") == {}
    assert indexer.index({"resourceType": "NotAType", "id": "x"}).table_rows(1, "x") == {}


def test_a_resource_without_resource_type_is_refused(indexer: Indexer) -> None:
    with pytest.raises(ValueError, match="resourceType"):
        indexer.index({"id": "x"})


@pytest.mark.parametrize(
    ("reference", "row"),
    [
        ("Patient/123", ("Patient", "123", None)),
        ("Patient/123/_history/2", ("Patient", "123", None)),
        (
            "https://h.example/fhir/Patient/123",
            ("Patient", "123", "https://h.example/fhir/Patient/123"),
        ),
        (
            "urn:uuid:0b6f9b2b-7a4b-4bc1-9f3c-1c1d2a3a1e11",
            (None, None, "urn:uuid:0b6f9b2b-7a4b-4bc1-9f3c-1c1d2a3a1e11"),
        ),
    ],
)
def test_reference_forms(indexer: Indexer, reference: str, row: tuple[Any, ...]) -> None:
    assert rows_of(indexer, observation(subject={"reference": reference}), "subject") == [row]


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": "#p1"},
        {"identifier": {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1"}},
        {"display": "Jean"},
    ],
)
def test_local_identifier_only_and_display_only_references_are_skipped(
    indexer: Indexer, subject: dict[str, Any]
) -> None:
    assert rows_of(indexer, observation(subject=subject), "subject") == []


def test_patient_parameter_keeps_only_patient_subjects(indexer: Indexer) -> None:
    group = observation(subject={"reference": "Group/g1"})
    assert rows_of(indexer, group, "subject") == [("Group", "g1", None)]
    assert rows_of(indexer, group, "patient") == []
    absolute = observation(subject={"reference": "https://h.example/fhir/Patient/9/_history/3"})
    assert rows_of(indexer, absolute, "patient") == [
        ("Patient", "9", "https://h.example/fhir/Patient/9/_history/3")
    ]


def test_parse_reference_ignores_unknown_types() -> None:
    assert parse_reference("Spaceship/1") is None
    assert parse_reference("https://h.example/x/Spaceship/1") == ReferenceTarget(
        None, None, "https://h.example/x/Spaceship/1"
    )
    assert parse_reference("") is None


def test_choice_types_of_effective(indexer: Indexer) -> None:
    period = observation(effectivePeriod={"start": "2024-03-05T10:00:00Z"})
    assert rows_of(indexer, period, "date") == [
        (date_range("2024-03-05T10:00:00Z")[0], MAX_DATE_US)
    ]
    closed_start = observation(effectivePeriod={"end": "2024-03"})
    assert rows_of(indexer, closed_start, "date") == [(MIN_DATE_US, date_range("2024-03")[1])]
    instant = observation(effectiveInstant="2024-03-05T10:00:00.123Z")
    assert rows_of(indexer, instant, "date") == [date_range("2024-03-05T10:00:00.123Z")]
    timing = observation(
        effectiveTiming={
            "event": ["2024-01-01", "2024-01-02"],
            "repeat": {"boundsPeriod": {"start": "2024-02-01", "end": "2024-02-10"}},
        }
    )
    assert rows_of(indexer, timing, "date") == [
        date_range("2024-01-01"),
        date_range("2024-01-02"),
        (date_range("2024-02-01")[0], date_range("2024-02-10")[1]),
    ]


def test_invalid_and_empty_dates_are_not_indexed(indexer: Indexer) -> None:
    assert rows_of(indexer, observation(effectiveDateTime="yesterday"), "date") == []
    assert rows_of(indexer, observation(effectivePeriod={}), "date") == []


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        (100, (99.5, 100.5)),
        (100.0, (99.95, 100.05)),
        (Decimal("1.50"), (1.495, 1.505)),
        (Decimal("1E+2"), (50.0, 150.0)),
        (0.001, (0.0005, 0.0015)),
        (-3, (-3.5, -2.5)),
    ],
)
def test_precision_ranges(value: Any, bounds: tuple[float, float]) -> None:
    assert precision_range(value) == pytest.approx(bounds)


def test_precision_range_rejects_non_numbers() -> None:
    assert precision_range(True) is None
    assert precision_range("100") is None
    assert precision_range(float("nan")) is None


def test_quantity_unit_falls_back_to_unit_and_needs_a_value(indexer: Indexer) -> None:
    with_unit = observation(valueQuantity={"value": 5.4, "unit": "mmol/L"})
    assert rows_of(indexer, with_unit, "value-quantity") == [
        (None, "mmol/L", pytest.approx(5.35), pytest.approx(5.45))
    ]
    assert rows_of(indexer, observation(valueQuantity={"unit": "mmol/L"}), "value-quantity") == []


def test_value_string_and_concept(indexer: Indexer) -> None:
    concept = observation(valueCodeableConcept={"coding": [{"code": "A"}], "text": "Élevé"})
    assert rows_of(indexer, concept, "value-concept") == [(None, "A")]
    assert rows_of(indexer, concept, "value-string") == [("eleve", "Élevé")]


def test_rows_are_deduplicated_per_parameter(indexer: Indexer) -> None:
    coding = {"system": "http://loinc.org", "code": "8867-4"}
    twice = observation(code={"coding": [coding, coding]})
    assert rows_of(indexer, twice, "code") == [("http://loinc.org", "8867-4")]


def test_long_values_are_cut_to_the_column_lengths(indexer: Indexer) -> None:
    long_name = {"resourceType": "Patient", "name": [{"family": "X" * 400}]}
    ((normalized, exact),) = rows_of(indexer, long_name, "family")
    assert len(normalized) == len(exact) == 256
    long_code = observation(code={"coding": [{"system": "s" * 300, "code": "c" * 300}]})
    assert rows_of(indexer, long_code, "code") == [("s" * 256, "c" * 256)]


def test_money_and_range_quantities(indexer: Indexer) -> None:
    claim = {"resourceType": "ChargeItem", "priceOverride": {"value": 12.5, "currency": "EUR"}}
    assert rows_of(indexer, claim, "price-override") == [
        ("urn:iso:std:iso:4217", "EUR", 12.45, 12.55)
    ]
    condition = {
        "resourceType": "Condition",
        "onsetRange": {"low": {"value": 10, "system": "http://unitsofmeasure.org", "code": "a"}},
    }
    assert rows_of(indexer, condition, "onset-age") == [
        ("http://unitsofmeasure.org", "a", 9.5, MAX_NUMBER)
    ]


def test_table_rows_fill_the_index_tables(indexer: Indexer) -> None:
    """Every example's rows insert into the real schema (column names, lengths, NOT NULL)."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        for seq, resource in enumerate(example_resources(), start=1):
            for kind, rows in (
                indexer.index(resource).table_rows(seq, resource["resourceType"]).items()
            ):
                conn.execute(insert(INDEX_TABLES[kind]), rows)
        table = INDEX_TABLES["token"]
        found = conn.execute(
            select(table.c.resource_type).where(table.c.param == "code", table.c.code == "8867-4")
        ).scalars()
        assert "Observation" in set(found)
    assert set(indexer.index(spec("patient-example")).table_rows(7, "Patient")) <= set(KINDS)


# -- the compiled evaluator is fhirpathpy's equal -------------------------------------------------
def test_every_r4_expression_compiles_without_fallback() -> None:
    registry = default_registry()
    unsupported = []
    for resource_type in sorted(registry.resource_types):
        for param in registry.indexed(resource_type):
            try:
                compile_expression(param.expression, resource_type)
            except UnsupportedExpression:
                unsupported.append(f"{resource_type}.{param.code}")
    assert unsupported == []
    # Binary has no search parameter of its own in R4.
    assert set(CORE_TYPES) - registry.resource_types == {"Binary"}


def _value_set(pairs: list[tuple[str, Any]]) -> set[tuple[str, str]]:
    """(type, JSON) of each value; an embedded resource is typed by its resourceType."""
    found = set()
    for type_name, value in pairs:
        if type_name == "Resource":
            type_name = value["resourceType"]
        elif type_name.startswith("System."):
            type_name = type_name[7:8].lower() + type_name[8:]
        found.add((type_name, json.dumps(value, sort_keys=True)))
    return found


def test_fast_evaluator_selects_what_fhirpathpy_selects() -> None:
    registry = default_registry()
    reference: dict[str, Callable[[Any], list[tuple[str, Any]]]] = {}
    resources = example_resources()
    assert {r["resourceType"] for r in resources} >= {"Patient", "Observation", "Encounter"}
    checked, selected, differences = 0, 0, []
    for resource in resources:
        resource_type = resource["resourceType"]
        for param in registry.indexed(resource_type):
            fast = evaluate(compile_expression(param.expression, resource_type), resource)
            if param.expression not in reference:
                reference[param.expression] = compile_fallback(param.expression)
            slow = reference[param.expression]
            if _value_set(fast) != _value_set(slow(resource)):
                differences.append(f"{resource_type}/{resource.get('id')} {param.code}")
            checked += 1
            selected += len(fast)
    assert differences == []
    assert checked > 20_000
    assert selected > 7_000


def test_union_operands_split_only_the_outer_unions() -> None:
    assert union_operands("A.b | (C.d | C.e).where(f = 'x|y') | G") == [
        "A.b",
        "(C.d | C.e).where(f = 'x|y')",
        "G",
    ]


def test_expressions_outside_the_subset_run_on_fhirpathpy() -> None:
    birth_place = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
    expression = f"Patient.extension('{birth_place}').value"
    with pytest.raises(UnsupportedExpression):
        compile_expression(expression, "Patient")
    param = SearchParam("birth-place", "string", expression, (), "urn:test:birth-place")
    indexer = Indexer(SearchParamRegistry({"Patient": {"birth-place": param}}))
    patient = {
        "resourceType": "Patient",
        "extension": [{"url": birth_place, "valueAddress": {"city": "Brest", "country": "FR"}}],
    }
    assert indexer.index(patient).strings == [
        ("birth-place", "brest", "Brest"),
        ("birth-place", "fr", "FR"),
    ]
    assert indexer.fallback_params == [param]
