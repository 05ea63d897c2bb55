"""A patient writes in her own record only, even through a resource that names her too."""

from __future__ import annotations

from typing import Any

from hygie.fhir.access import SystemAccess
from tests.conftest import backends
from tests.security.app.conftest import Hospital

FHIR_JSON = {"content-type": "application/fhir+json"}


def allergy(patient: str, recorder: str) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": patient},
        "recorder": {"reference": recorder},
        "code": {"text": "Pénicilline"},
    }


@backends
def test_naming_herself_recorder_does_not_open_another_record(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    before = hospital.stored("AllergyIntolerance")
    refused = alice.post(
        "/fhir/AllergyIntolerance", json=allergy("Patient/p2", "Patient/p1"), headers=FHIR_JSON
    )
    assert refused.status_code == 403, refused.text
    assert hospital.stored("AllergyIntolerance") == before
    mine = alice.post(
        "/fhir/AllergyIntolerance", json=allergy("Patient/p1", "Patient/p1"), headers=FHIR_JSON
    )
    assert mine.status_code == 201, mine.text


@backends
def test_a_resource_shared_with_another_patient_is_not_released_to_her(
    hospital: Hospital,
) -> None:
    # Bruno's allergy, which Alice once reported (recorder), as another system stored it.
    written = hospital.security.store.create(
        allergy("Patient/p2", "Patient/p1"), guard=SystemAccess(reason="tests: setup")
    )
    alice, _ = hospital.patient_alice()
    assert alice.get(f"/fhir/AllergyIntolerance/{written.stored.id}").status_code == 404
    found = alice.get("/fhir/AllergyIntolerance").json()
    assert found.get("entry", []) == []
