"""The patient's privacy settings, written as their Consent and honoured by the PEP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hygie.db.engine import Database
from hygie.http.caller_fhir import FhirCallError
from hygie.record.privacy import (
    BlockedActor,
    PrivacyError,
    block_actor,
    hide_document,
    read_privacy,
    set_emergency_forbidden,
    show_document,
    unblock_actor,
)
from hygie.security.policy.consent import consent_effects
from tests.conftest import backends
from tests.record.world import as_caller, open_hospital, system_fhir
from tests.security.app.conftest import Hospital

EMERGENCY = {"patient": "Patient/p1", "motif": "patiente inconsciente admise aux urgences"}


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    yield from open_hospital(database, tmp_path)


def consents(hospital: Hospital) -> list[dict]:
    return system_fhir(hospital).search_resources("Consent", [("patient", "Patient/p1")])


@backends
def test_blocking_a_professional_shuts_them_out_until_unblocked(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    assert dr1.get("/fhir/Patient/p1").status_code == 200

    settings = as_caller(
        alice, lambda f: block_actor(f, "p1", "Practitioner/dr1", name="Dr Claire Rousseau")
    )
    assert settings.blocked == [BlockedActor("Practitioner/dr1", "Dr Claire Rousseau")]
    assert dr1.get("/fhir/Patient/p1").status_code == 404
    assert (
        dr1.get("/fhir/DocumentReference", params={"patient": "Patient/p1"}).json().get("entry", [])
        == []
    )
    # One Consent, the one the PEP honours.
    [consent] = consents(hospital)
    assert consent_effects(consent).blocked_actors == {"Practitioner/dr1"}

    settings = as_caller(alice, lambda f: unblock_actor(f, "p1", "Practitioner/dr1"))
    assert settings.blocked == []
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    assert len(consents(hospital)) == 1


@backends
def test_a_hidden_document_is_gone_for_professionals_but_its_author(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    dr3, _ = hospital.professional("dr.lambert", "Practitioner/dr3", "Organization/o1")
    settings = as_caller(alice, lambda f: hide_document(f, "p1", "doc-a"))
    assert settings.hidden_documents == {"doc-a"}
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 404
    assert dr3.get("/fhir/DocumentReference/doc-a").status_code == 200  # its author
    assert alice.get("/fhir/DocumentReference/doc-a").status_code == 200
    as_caller(alice, lambda f: show_document(f, "p1", "doc-a"))
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 200
    assert as_caller(alice, lambda f: read_privacy(f, "p1")).hidden_documents == frozenset()


@backends
def test_forbidding_emergency_access_stops_break_the_glass(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    settings = as_caller(alice, lambda f: set_emergency_forbidden(f, "p1", True))
    assert settings.emergency_forbidden
    assert dr2.post("/api/bris-de-glace", json=EMERGENCY).status_code == 403
    as_caller(alice, lambda f: set_emergency_forbidden(f, "p1", False))
    assert dr2.post("/api/bris-de-glace", json=EMERGENCY).status_code == 201


@backends
def test_settings_accumulate_in_the_one_consent(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    as_caller(alice, lambda f: block_actor(f, "p1", "Organization/o2"))
    as_caller(alice, lambda f: hide_document(f, "p1", "doc-a"))
    settings = as_caller(alice, lambda f: set_emergency_forbidden(f, "p1", True))
    assert settings.blocked == [BlockedActor("Organization/o2", "Organization/o2")]
    assert settings.hidden_documents == {"doc-a"}
    assert settings.emergency_forbidden
    [consent] = consents(hospital)
    effects = consent_effects(consent)
    assert effects.blocked_actors == {"Organization/o2"}
    assert effects.masked_documents == {"DocumentReference/doc-a"}
    assert effects.emergency_forbidden


@backends
def test_a_professional_cannot_change_the_patients_privacy(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    with pytest.raises(FhirCallError) as refused:
        as_caller(dr1, lambda f: block_actor(f, "p1", "Practitioner/dr3"))
    assert refused.value.status == 403
    with pytest.raises(FhirCallError) as refused:
        as_caller(dr1, lambda f: set_emergency_forbidden(f, "p1", True))
    assert refused.value.status == 403
    assert consents(hospital) == []


@backends
def test_bad_requests_are_refused_in_french_and_store_nothing(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    with pytest.raises(PrivacyError, match="Seul un professionnel"):
        as_caller(alice, lambda f: block_actor(f, "p1", "Patient/p2"))
    with pytest.raises(PrivacyError, match="introuvable"):
        as_caller(alice, lambda f: hide_document(f, "p1", "no-such-doc"))
    # Another patient's settings are not hers to write.
    with pytest.raises(FhirCallError) as refused:
        as_caller(alice, lambda f: set_emergency_forbidden(f, "p2", True))
    assert refused.value.status == 403
    assert consents(hospital) == []
    assert system_fhir(hospital).search_resources("Consent") == []
