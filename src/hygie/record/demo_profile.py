"""Believable medical profiles for the demo patients: height, blood pressure, allergies,
treatments, vaccinations and history, coded as :mod:`hygie.record.profile` writes them.

``demo.demo_bundle`` calls :func:`add_demo_profile` once per patient with its builder's
``add`` (a conditional create keyed on a demo identifier, so loading twice adds nothing).
Each patient's choices come from their own seeded generator: the rest of the demo data is
unchanged by this module.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hygie.record.fhir_values import LOINC, SNOMED, UCUM
from hygie.record.profile import (
    ATC,
    CLINICAL_STATUS,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CVX,
    KNOWN_ALLERGENS,
    KNOWN_CONDITIONS,
    KNOWN_MEDICINES,
    OBSERVATION_CATEGORY,
    VACCINES,
    VERIFICATION,
)
from hygie.record.timeline import BLOOD_PRESSURE, DIASTOLIC, SYSTOLIC

Add = Callable[[str, dict[str, Any]], str]

# (known condition key, French label, clinical status, the treatments that go with it:
# medicine key, French label, dosage)
_HISTORIES: list[tuple[str | None, str, str, list[tuple[str, str, str]]]] = [
    (
        "hypertension arterielle",
        "Hypertension artérielle",
        "active",
        [("amlodipine", "Amlodipine 5 mg", "1 comprimé le matin")],
    ),
    (
        "diabete de type 2",
        "Diabète de type 2",
        "active",
        [("metformine", "Metformine 1000 mg", "1 comprimé matin et soir")],
    ),
    ("asthme", "Asthme", "active", []),
    (None, "Appendicectomie", "resolved", []),
    (
        None,
        "Hypothyroïdie",
        "active",
        [("levothyroxine", "Lévothyroxine 75 µg", "1 comprimé le matin à jeun")],
    ),
]
_ALLERGIES = [
    ("penicilline", "Pénicilline", "Urticaire", "moderate"),
    ("arachide", "Arachide", "Œdème des lèvres", "severe"),
    ("pollen", "Pollens de graminées", "Rhinite", "mild"),
    ("latex", "Latex", "Eczéma de contact", "mild"),
]
_VACCINATIONS = ["dtp", "ror", "hepatite-b", "grippe", "covid19", "pneumocoque"]


def add_demo_profile(add: Add, index: int, patient: str, doctor: str, visit: datetime) -> None:
    """Add patient ``index``'s profile; ``patient``/``doctor`` are the builder's references,
    ``visit`` the time of their last consultation."""
    rng = random.Random(7919 * index + 11)  # noqa: S311 - demo data, not security
    key = f"profile-{index}"
    vital = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}]
    height = rng.randint(150, 192)
    add(
        f"{key}-height",
        {
            "resourceType": "Observation",
            "status": "final",
            "category": vital,
            "code": {
                "coding": [{"system": LOINC, "code": "8302-2", "display": "Body height"}],
                "text": "Taille",
            },
            "subject": {"reference": patient},
            "effectiveDateTime": (visit - timedelta(days=300)).isoformat(),
            "performer": [{"reference": doctor}],
            "valueQuantity": {"value": height, "unit": "cm", "system": UCUM, "code": "cm"},
        },
    )
    base = rng.randint(112, 150)
    for n in range(3):
        systolic = base + rng.randint(-8, 8)
        diastolic = round(systolic * 0.62) + rng.randint(-4, 4)
        add(
            f"{key}-bp-{n}",
            {
                "resourceType": "Observation",
                "status": "final",
                "category": vital,
                "code": {
                    "coding": [
                        {"system": LOINC, "code": BLOOD_PRESSURE, "display": "Blood pressure panel"}
                    ],
                    "text": "Tension artérielle",
                },
                "subject": {"reference": patient},
                "effectiveDateTime": (visit - timedelta(days=45 * n)).isoformat(),
                "performer": [{"reference": doctor}],
                "component": [
                    _pressure(SYSTOLIC, "Systolic blood pressure", systolic),
                    _pressure(DIASTOLIC, "Diastolic blood pressure", diastolic),
                ],
            },
        )
    for code, label, reaction, severity in rng.sample(_ALLERGIES, rng.choice((0, 1, 1, 2))):
        add(
            f"{key}-allergy-{code}",
            {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS, "code": "active"}]},
                "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
                "code": _concept(label, SNOMED, KNOWN_ALLERGENS.get(code)),
                "patient": {"reference": patient},
                "recordedDate": (visit - timedelta(days=rng.randint(400, 3000))).date().isoformat(),
                "recorder": {"reference": doctor},
                "reaction": [{"manifestation": [{"text": reaction}], "severity": severity}],
            },
        )
    for n, (condition, name_fr, status, treatments) in enumerate(
        rng.sample(_HISTORIES, rng.randint(1, 2))
    ):
        onset = visit - timedelta(days=rng.randint(365, 15 * 365))
        add(
            f"{key}-condition-{n}",
            {
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}]},
                "category": [
                    {"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}
                ],
                "code": _concept(name_fr, SNOMED, KNOWN_CONDITIONS.get(condition or "")),
                "subject": {"reference": patient},
                "onsetDateTime": onset.date().isoformat(),
                "recorder": {"reference": doctor},
            },
        )
        for medicine, name, dosage in treatments:
            add(
                f"{key}-treatment-{medicine}",
                {
                    "resourceType": "MedicationStatement",
                    "status": "active",
                    "medicationCodeableConcept": _concept(name, ATC, KNOWN_MEDICINES.get(medicine)),
                    "subject": {"reference": patient},
                    "effectivePeriod": {"start": (onset + timedelta(days=30)).date().isoformat()},
                    "dateAsserted": visit.isoformat(),
                    "informationSource": {"reference": doctor},
                    "dosage": [{"text": dosage}],
                },
            )
    for vaccine in rng.sample(_VACCINATIONS, rng.randint(2, 4)):
        cvx, label = VACCINES[vaccine]
        add(
            f"{key}-vaccine-{vaccine}",
            {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": {"coding": [{"system": CVX, "code": cvx}], "text": label},
                "patient": {"reference": patient},
                "occurrenceDateTime": (visit - timedelta(days=rng.randint(30, 3650)))
                .date()
                .isoformat(),
                "primarySource": True,
                "performer": [{"actor": {"reference": doctor}}],
                "lotNumber": f"{rng.choice('ABCDEFGHJK')}{rng.randint(1000, 9999)}",
            },
        )


def _pressure(code: str, display: str, value: int) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "valueQuantity": {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }


def _concept(text: str, system: str, known: tuple[str, str] | None) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if known is not None:
        concept["coding"] = [{"system": system, "code": known[0], "display": known[1]}]
    return concept
