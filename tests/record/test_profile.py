"""The medical profile: read and add as the patient or a professional; bad input stores
nothing; the demo profiles are valid FHIR the profile reads back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hygie.db.engine import Database
from hygie.http.caller_fhir import FhirCallError
from hygie.record.demo_profile import add_demo_profile
from hygie.record.profile import PROFILE_SECTIONS, ProfileError, add_to_profile, read_profile
from tests.conftest import backends
from tests.record.world import as_caller, open_hospital, system_fhir
from tests.security.app.conftest import Hospital

PROFILE_TYPES = [
    "AllergyIntolerance",
    "MedicationStatement",
    "Immunization",
    "Observation",
    "Condition",
]


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    yield from open_hospital(database, tmp_path)


def stored(hospital: Hospital) -> dict[str, int]:
    oracle = system_fhir(hospital)
    return {t: len(oracle.search_resources(t)) for t in PROFILE_TYPES}


@backends
def test_the_patient_and_her_doctor_fill_the_profile(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")

    def alice_adds(section: str, **form: str) -> str:
        return as_caller(alice, lambda f: add_to_profile(f, "p1", "Patient/p1", section, form))

    def doctor_adds(section: str, **form: str) -> str:
        return as_caller(dr1, lambda f: add_to_profile(f, "p1", "Practitioner/dr1", section, form))

    allergy = alice_adds(
        "allergies", substance="Pénicilline", reaction="Urticaire", gravite="moderee"
    )
    doctor_adds(
        "traitements", medicament="Amlodipine", posologie="5 mg le matin", debut="2024-03-01"
    )
    alice_adds("vaccinations", vaccin="grippe", date="2025-10-20", lot="AB123")
    doctor_adds("mesures", mesure="tension", systolique="128", diastolique="82", date="2026-09-30")
    alice_adds("mesures", mesure="poids", valeur="64,5", date="2026-09-01")
    doctor_adds("antecedents", libelle="Hypertension artérielle", debut="2020-05-01")

    sections = {s.key: s for s in as_caller(alice, lambda f: read_profile(f, "p1"))}
    assert list(sections) == list(PROFILE_SECTIONS)
    assert [(i.label, i.detail) for i in sections["allergies"].items] == [
        ("Pénicilline", "Urticaire · Modérée")
    ]
    assert sections["allergies"].items[0].reference == allergy
    assert [(i.label, i.detail) for i in sections["traitements"].items] == [
        ("Amlodipine", "5 mg le matin · depuis le 01/03/2024")
    ]
    assert [(i.label, i.detail) for i in sections["vaccinations"].items] == [
        ("Grippe saisonnière", "lot AB123")
    ]
    assert [(i.label, i.detail) for i in sections["mesures"].items] == [
        ("Tension artérielle", "128/82 mmHg"),
        ("Poids", "64,5 kg"),
    ]
    assert [(i.label, i.detail) for i in sections["antecedents"].items] == [
        ("Hypertension artérielle", "en cours")
    ]
    # Proper FHIR, coded where a code is known.
    oracle = system_fhir(hospital)
    [resource] = oracle.search_resources("AllergyIntolerance")
    assert resource["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "764146007",
        "display": "Penicillin (substance)",
    }
    assert resource["verificationStatus"]["coding"][0]["code"] == "unconfirmed"  # her own word
    [weight] = oracle.search_resources("Observation", [("code", "http://loinc.org|29463-7")])
    assert weight["valueQuantity"] == {
        "value": 64.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    [medication] = oracle.search_resources("MedicationStatement")
    assert medication["medicationCodeableConcept"]["coding"][0]["code"] == "C08CA01"


@pytest.mark.parametrize(
    ("section", "form", "message"),
    [
        ("allergies", {"substance": ""}, "« Substance ou aliment » est obligatoire"),
        ("allergies", {"substance": "Latex", "gravite": "severe"}, "Indiquez la réaction"),
        ("allergies", {"substance": "Latex", "gravite": "mortelle"}, "Valeur non proposée"),
        ("traitements", {"medicament": "X", "debut": "demain"}, "n'est pas une date"),
        ("traitements", {"medicament": "X", "debut": "2999-01-01"}, "dans le futur"),
        ("vaccinations", {"vaccin": "grippe"}, "« Date (AAAA-MM-JJ) » est obligatoire"),
        ("vaccinations", {"vaccin": "variole", "date": "2020-01-01"}, "Valeur non proposée"),
        ("mesures", {"mesure": "poids", "valeur": "soixante"}, "n'est pas un nombre"),
        ("mesures", {"mesure": "poids", "valeur": "720"}, "hors des valeurs possibles"),
        ("mesures", {"mesure": "temperature", "valeur": ""}, "indiquez une valeur"),
        (
            "mesures",
            {"mesure": "tension", "systolique": "80", "diastolique": "120"},
            "diastolique doit être inférieure",
        ),
        ("antecedents", {"libelle": "x" * 201}, "dépasse 200 caractères"),
        ("antecedents", {"libelle": "Asthme", "couleur": "bleu"}, "Champ inconnu"),
        ("humeur", {"texte": "bien"}, "Rubrique inconnue"),
    ],
)
def test_invalid_input_is_refused_in_french_and_stores_nothing(
    hospital: Hospital, section: str, form: dict[str, str], message: str
) -> None:
    alice, _ = hospital.patient_alice()
    before = stored(hospital)
    with pytest.raises(ProfileError, match=re.escape(message)):
        as_caller(alice, lambda f: add_to_profile(f, "p1", "Patient/p1", section, form))
    assert stored(hospital) == before


@backends
def test_only_people_with_access_add_to_a_profile(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    form = {"substance": "Latex"}
    with pytest.raises(FhirCallError) as refused:  # no care relationship with Alice
        as_caller(dr2, lambda f: add_to_profile(f, "p1", "Practitioner/dr2", "allergies", form))
    assert refused.value.status == 403
    with pytest.raises(FhirCallError) as refused:  # Alice writes only her own record
        as_caller(alice, lambda f: add_to_profile(f, "p2", "Patient/p2", "allergies", form))
    assert refused.value.status == 403
    with pytest.raises(ProfileError, match="son propre profil"):
        as_caller(alice, lambda f: add_to_profile(f, "p2", "Patient/p1", "allergies", form))
    assert stored(hospital)["AllergyIntolerance"] == 0
    # And a patient reads only her own profile.
    assert all(not s.items for s in as_caller(alice, lambda f: read_profile(f, "p2")))


@backends
def test_demo_profiles_are_valid_fhir_and_read_back(hospital: Hospital) -> None:
    entries: list[dict[str, Any]] = []

    def add(key: str, resource: dict[str, Any]) -> str:
        entries.append(
            {
                "resource": resource,
                "request": {
                    "method": "POST",
                    "url": resource["resourceType"],
                    "ifNoneExist": f"identifier=urn:hygie:demo|{key}",
                },
            }
        )
        resource.setdefault("identifier", []).append({"system": "urn:hygie:demo", "value": key})
        return ""

    visit = datetime(2026, 9, 30, 9, tzinfo=UTC)
    for index in range(4):
        add_demo_profile(add, index, "Patient/p1", "Practitioner/dr1", visit)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    oracle = system_fhir(hospital)
    oracle.transaction(bundle)
    again = oracle.transaction(bundle)  # idempotent: nothing created twice
    assert {e["response"]["status"] for e in again["entry"]} == {"200 OK"}
    alice, _ = hospital.patient_alice()
    sections = {s.key: s for s in as_caller(alice, lambda f: read_profile(f, "p1"))}
    assert all(
        sections[key].items for key in ("traitements", "vaccinations", "mesures", "antecedents")
    )
    pressures = [i for i in sections["mesures"].items if i.label == "Tension artérielle"]
    assert len(pressures) == 12 and all(i.detail.endswith(" mmHg") for i in pressures)
