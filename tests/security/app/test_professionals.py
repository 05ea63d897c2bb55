"""Professionals through the app: care relationship, the patient's Consent (block, mask,
no emergency access) written through the FHIR API, and break-the-glass."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from hygie.security.context import Aal
from tests.conftest import backends
from tests.security.app.conftest import Hospital
from tests.security.app.flows import entry_ids

PRIVACY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
    ]
}
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
EMERGENCY = {"patient": "Patient/p1", "motif": "patiente inconsciente admise aux urgences"}


def ids(http: TestClient, path: str, **params: str) -> list[str]:
    response = http.get(f"/fhir/{path}", params=params)
    assert response.status_code == 200, response.text
    return entry_ids(response.json())


def consent(*denials: dict[str, Any]) -> dict[str, Any]:
    """Alice's privacy Consent: what she denies."""
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": PRIVACY,
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "Patient/p1"},
        "provision": {"type": "permit", "provision": [{"type": "deny", **d} for d in denials]},
    }


def blocking(actor: str) -> dict[str, Any]:
    role = {"coding": [{"system": PARTICIPATION, "code": "PRCP"}]}
    return {"actor": [{"role": role, "reference": {"reference": actor}}]}


def masking(document: str) -> dict[str, Any]:
    return {"data": [{"meaning": "instance", "reference": {"reference": document}}]}


def write_consent(patient: TestClient, resource: dict[str, Any]) -> httpx.Response:
    response = patient.post("/fhir/Consent", json=resource)
    assert response.status_code == 201, response.text
    return response


@backends
def test_a_professional_sees_the_patients_of_their_organisation_only(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    assert dr1.get("/fhir/Observation/obs-p1").status_code == 200
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    assert dr1.get("/fhir/Observation/obs-p2").status_code == 404
    assert dr1.get("/fhir/Patient/p2").status_code == 404
    assert ids(dr1, "Observation") == ["Observation/obs-p1"]
    assert ids(dr1, "Patient") == ["Patient/p1"]
    assert ids(dr1, "Observation", subject="Patient/p2") == []


@backends
def test_a_patient_blocks_a_professional_through_a_consent(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    dr3, _ = hospital.professional("dr.trois", "Practitioner/dr3", "Organization/o1")
    assert dr1.get("/fhir/Observation/obs-p1").status_code == 200
    write_consent(alice, consent(blocking("Practitioner/dr1")))
    assert dr1.get("/fhir/Observation/obs-p1").status_code == 404
    assert dr1.get("/fhir/Patient/p1").status_code == 404
    assert ids(dr1, "Observation") == []
    assert ids(dr1, "DocumentReference") == []
    assert ids(dr1, "Patient") == []
    # Only dr1 is blocked: a colleague of the same organisation still cares for Alice.
    assert dr3.get("/fhir/Observation/obs-p1").status_code == 200


# A patient's privacy Consent is theirs alone: no professional writes or lifts it
# (policy consent-written-by-the-patient-only).
@backends
def test_a_professional_cannot_write_a_consent_for_the_patient(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    response = dr1.post("/fhir/Consent", json=consent(blocking("Practitioner/dr3")))
    assert response.status_code == 403, response.text
    assert hospital.stored("Consent") == []


@backends
def test_a_colleague_cannot_lift_the_block_the_patient_chose(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    dr3, _ = hospital.professional("dr.trois", "Practitioner/dr3", "Organization/o1")
    written = write_consent(alice, consent(blocking("Practitioner/dr1"))).json()
    assert dr3.delete(f"/fhir/Consent/{written['id']}").status_code == 403
    assert dr1.get("/fhir/Observation/obs-p1").status_code == 404


@backends
def test_a_masked_document_is_seen_by_its_author_and_the_patient_only(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    dr3, _ = hospital.professional("dr.trois", "Practitioner/dr3", "Organization/o1")
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 200
    write_consent(alice, consent(masking("DocumentReference/doc-a")))
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 404
    assert ids(dr1, "DocumentReference") == ["DocumentReference/doc-b"]
    assert ids(dr1, "DocumentReference", subject="Patient/p1") == ["DocumentReference/doc-b"]
    # Its author (dr3) and the patient still see it.
    assert dr3.get("/fhir/DocumentReference/doc-a").status_code == 200
    assert ids(dr3, "DocumentReference") == [
        "DocumentReference/doc-a",
        "DocumentReference/doc-b",
    ]
    assert alice.get("/fhir/DocumentReference/doc-a").status_code == 200
    assert "DocumentReference/doc-a" in ids(alice, "DocumentReference")


@backends
def test_break_the_glass_opens_the_record_audits_and_tells_the_patient(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2")
    assert dr2.get("/fhir/Observation/obs-p1").status_code == 404
    assert ids(dr2, "Observation", subject="Patient/p1") == []

    opened = dr2.post("/api/bris-de-glace", json=EMERGENCY)
    assert opened.status_code == 201, opened.text
    assert opened.json()["patient"] == "Patient/p1"

    read = dr2.get("/fhir/Observation/obs-p1")
    assert read.status_code == 200
    assert ids(dr2, "Observation", subject="Patient/p1") == ["Observation/obs-p1"]
    # The audit log flags those reads as break-the-glass.
    log = hospital.security.audit_log
    entries = [entry for _, entry in log.entries_for_patient("Patient/p1", limit=50)]
    by_dr2 = [
        e for e in entries if e.actor.id == "Practitioner/dr2" and e.action.startswith("fhir.")
    ]
    permitted = [e for e in by_dr2 if e.outcome.value == "permit"]
    assert {e.action for e in permitted} >= {"fhir.read", "fhir.search"}
    assert all(e.break_glass for e in permitted)
    assert all(not e.break_glass for e in by_dr2 if e.outcome.value == "deny")
    # Alice finds a Communication telling her who opened her record and why.
    notes = alice.get("/fhir/Communication", params={"subject": "Patient/p1"}).json()
    [note] = [e["resource"] for e in notes.get("entry", [])]
    assert note["sender"] == {"reference": "Practitioner/dr2"}
    assert EMERGENCY["motif"] in note["payload"][0]["contentString"]
    # ...which she reads in her access history too.
    history = alice.get("/api/audit/mes-acces").json()["entries"]
    assert any(e["break_glass"] and e["actor"]["id"] == "Practitioner/dr2" for e in history)


@backends
def test_break_the_glass_is_refused_when_the_patient_forbids_it(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2")
    write_consent(alice, consent({"purpose": [{"system": ACT_REASON, "code": "BTG"}]}))
    refused = dr2.post("/api/bris-de-glace", json=EMERGENCY)
    assert refused.status_code == 403, refused.text
    assert "refused emergency" in refused.json()["erreur"]
    assert hospital.security.break_glass.active("Practitioner/dr2", "Patient/p1") is None
    assert dr2.get("/fhir/Observation/obs-p1").status_code == 404
    assert hospital.stored("Communication") == []


@backends
def test_break_the_glass_needs_a_reason_and_a_professional(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2")
    assert dr2.post("/api/bris-de-glace", json={"patient": "Patient/p1"}).status_code == 400
    blank = dr2.post("/api/bris-de-glace", json={"patient": "Patient/p1", "motif": "  "})
    assert blank.status_code == 403, blank.text
    # A patient cannot break the glass into another patient's record.
    other = alice.post("/api/bris-de-glace", json={**EMERGENCY, "patient": "Patient/p2"})
    assert other.status_code == 403
    assert hospital.stored("Communication") == []
    assert dr2.get("/fhir/Observation/obs-p1").status_code == 404


@backends
def test_break_the_glass_needs_the_second_factor(hospital: Hospital) -> None:
    dr2, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2", aal=Aal.ONE)
    refused = dr2.post("/api/bris-de-glace", json=EMERGENCY)
    assert refused.status_code == 403
    assert "two authentication factors" in refused.json()["erreur"]
    assert hospital.security.break_glass.active("Practitioner/dr2", "Patient/p1") is None
    assert hospital.stored("Communication") == []
