"""The care journey in one list: order, French titles, filters, and what the PEP hides."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hygie.db.engine import Database
from hygie.record.privacy import block_actor, hide_document
from hygie.record.timeline import TIMELINE_KINDS, TimelineError, build_timeline
from tests.conftest import backends
from tests.record.world import as_caller, open_hospital, ref, system_fhir
from tests.security.app.conftest import Hospital

LOINC = "http://loinc.org"


def encounter(patient: str, start: str, service: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "serviceType": {"text": service},
        "subject": ref(patient),
        "period": {"start": start},
    }


def pressure(patient: str, when: str, systolic: int, diastolic: int) -> dict[str, Any]:
    def part(code: str, value: int) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "code": "mm[Hg]"},
        }

    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}], "text": "Tension artérielle"},
        "subject": ref(patient),
        "effectiveDateTime": when,
        "component": [part("8480-6", systolic), part("8462-4", diastolic)],
    }


JOURNEY = [
    encounter("Patient/p1", "2026-09-30T09:00:00+02:00", "Cardiologie"),
    pressure("Patient/p1", "2026-09-30T09:20:00+02:00", 128, 82),
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}], "text": "Poids"},
        "subject": ref("Patient/p1"),
        "effectiveDateTime": "2026-06-15",
        "valueQuantity": {"value": 64.5, "unit": "kg"},
    },
    {
        "resourceType": "Appointment",
        "status": "booked",
        "description": "Consultation de suivi",
        "start": "2026-12-10T14:00:00+01:00",
        "end": "2026-12-10T14:30:00+01:00",
        "participant": [{"actor": ref("Patient/p1"), "status": "accepted"}],
    },
    {
        "resourceType": "Communication",
        "status": "completed",
        "category": [{"text": "Résultats"}],
        "subject": ref("Patient/p1"),
        "recipient": [ref("Patient/p1")],
        "sender": ref("Practitioner/dr1"),
        "sent": "2026-10-05T08:00:00+02:00",
        "payload": [{"contentString": "Vos résultats sont normaux."}],
    },
    encounter("Patient/p2", "2026-10-01T09:00:00+02:00", "Radiologie"),
]


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    for opened in open_hospital(database, tmp_path):
        oracle = system_fhir(opened)
        for resource in JOURNEY:
            oracle.create(resource)
        yield opened


@backends
def test_the_patient_sees_her_journey_newest_first_with_french_titles(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    items = as_caller(alice, lambda f: build_timeline(f, "p1"))
    assert [(i.when.date().isoformat(), i.kind, i.title) for i in items] == [
        ("2026-12-10", "Appointment", "Rendez-vous — Consultation de suivi"),
        ("2026-10-05", "Communication", "Message — Résultats"),
        ("2026-10-02", "DocumentReference", "Document — Compte rendu d'hospitalisation"),
        ("2026-09-30", "Observation", "Tension artérielle 128/82 mmHg"),
        ("2026-09-30", "Encounter", "Consultation — Cardiologie"),
        ("2026-06-15", "Observation", "Poids 64,5 kg"),
    ]
    message = items[1]
    assert message.detail == "Vos résultats sont normaux."  # decrypted for her
    assert items[0].detail == "confirmé"
    assert all(i.reference.startswith(f"{i.kind}/") for i in items)


@backends
def test_filters_by_kind_period_and_limit(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    measures = TIMELINE_KINDS["Mesures et résultats"]
    only = as_caller(alice, lambda f: build_timeline(f, "p1", kinds=[measures]))
    assert [i.title for i in only] == ["Tension artérielle 128/82 mmHg", "Poids 64,5 kg"]
    autumn = as_caller(
        alice,
        lambda f: build_timeline(f, "p1", since=date(2026, 9, 1), until=date(2026, 10, 3)),
    )
    assert [i.kind for i in autumn] == ["DocumentReference", "Observation", "Encounter"]
    assert len(as_caller(alice, lambda f: build_timeline(f, "p1", limit=2))) == 2
    with pytest.raises(TimelineError, match="inconnu"):
        as_caller(alice, lambda f: build_timeline(f, "p1", kinds=["Patient"]))
    with pytest.raises(TimelineError, match="précéder"):
        as_caller(
            alice, lambda f: build_timeline(f, "p1", since=date(2026, 2, 1), until=date(2026, 1, 1))
        )


@backends
def test_a_patient_never_sees_another_patients_journey(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    assert as_caller(alice, lambda f: build_timeline(f, "p2")) == []


@backends
def test_professionals_see_what_the_pep_lets_them(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    seen = as_caller(dr1, lambda f: build_timeline(f, "p1"))
    assert len(seen) == 6
    assert as_caller(dr2, lambda f: build_timeline(f, "p1")) == []  # no care relationship
    as_caller(alice, lambda f: hide_document(f, "p1", "doc-a"))
    after_hiding = as_caller(dr1, lambda f: build_timeline(f, "p1"))
    assert "DocumentReference" not in {i.kind for i in after_hiding}
    as_caller(alice, lambda f: block_actor(f, "p1", "Practitioner/dr1"))
    assert as_caller(dr1, lambda f: build_timeline(f, "p1")) == []
