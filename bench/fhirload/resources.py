"""Deterministic synthetic FHIR R4 resources: French patients and their vital signs.

Every value comes from one seeded generator, so a run with the same seed and options sends
the same resources (the server's ids and timestamps differ, of course).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .names import CITIES, FAMILY_NAMES, GIVEN_NAMES, STREETS

Resource = dict[str, Any]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BENCH_SYSTEM = "urn:hygie:bench:fhir-load"
# The tag on the load phase's data, so that a re-run finds it with one count query.
LOAD_TAG = {"system": BENCH_SYSTEM, "code": "load", "display": "FHIR load benchmark data"}
LOAD_TAG_PARAM = f"{BENCH_SYSTEM}|load"
HEART_RATE = "8867-4"
# Fixed, so that the same seed gives the same dates whatever the day of the run.
CLOCK_END = datetime(2026, 1, 1, tzinfo=UTC)

# code: (display, unit, low, high, decimals)
SIMPLE_VITALS = {
    HEART_RATE: ("Heart rate", "/min", 48.0, 130.0, 0),
    "8310-5": ("Body temperature", "Cel", 35.8, 39.5, 1),
    "9279-1": ("Respiratory rate", "/min", 10.0, 28.0, 0),
    "2708-6": ("Oxygen saturation in Arterial blood", "%", 88.0, 100.0, 0),
}
BLOOD_PRESSURE = "85354-9"
VITAL_CODES = (*SIMPLE_VITALS, BLOOD_PRESSURE)


class Workload:
    """Builds the resources; ``seed`` fixes every choice."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._sequence = 0

    def patient(self, *, tagged: bool = False) -> Resource:
        rng = self._rng
        self._sequence += 1
        gender = rng.choice(("female", "male"))
        given = [rng.choice(GIVEN_NAMES[gender])]
        if rng.random() < 0.3:
            given.append(rng.choice(GIVEN_NAMES[gender]))
        city, postal_code = rng.choice(CITIES)
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33_000))
        patient: Resource = {
            "resourceType": "Patient",
            "identifier": [
                {"use": "usual", "system": BENCH_SYSTEM, "value": f"IPP{self._sequence:08d}"}
            ],
            "active": True,
            "name": [{"use": "official", "family": rng.choice(FAMILY_NAMES), "given": given}],
            "telecom": [
                {"system": "phone", "value": f"+33 6 {rng.randrange(10**8):08d}", "use": "mobile"}
            ],
            "gender": gender,
            "birthDate": birth.isoformat(),
            "address": [
                {
                    "use": "home",
                    "line": [f"{rng.randrange(1, 200)} {rng.choice(STREETS)}"],
                    "city": city,
                    "postalCode": postal_code,
                    "country": "FR",
                }
            ],
            "communication": [
                {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr-FR"}]}}
            ],
        }
        if tagged:
            patient["meta"] = {"tag": [LOAD_TAG]}
        return patient

    def observation(self, subject: str, code: str, *, tagged: bool = False) -> Resource:
        rng = self._rng
        when = CLOCK_END - timedelta(seconds=rng.randrange(0, 30 * 86_400))
        observation: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ]
                }
            ],
            "subject": {"reference": subject},
            "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
        }
        if code == BLOOD_PRESSURE:
            systolic = rng.randrange(95, 175)
            observation["code"] = _concept(code, "Blood pressure panel")
            observation["component"] = [
                {
                    "code": _concept("8480-6", "Systolic blood pressure"),
                    "valueQuantity": _quantity(systolic, "mm[Hg]"),
                },
                {
                    "code": _concept("8462-4", "Diastolic blood pressure"),
                    "valueQuantity": _quantity(systolic - rng.randrange(30, 60), "mm[Hg]"),
                },
            ]
        else:
            display, unit, low, high, decimals = SIMPLE_VITALS[code]
            value = round(rng.uniform(low, high), decimals)
            observation["code"] = _concept(code, display)
            observation["valueQuantity"] = _quantity(value if decimals else int(value), unit)
        if tagged:
            observation["meta"] = {"tag": [LOAD_TAG]}
        return observation

    def vital_code(self) -> str:
        return self._rng.choice(VITAL_CODES)

    def pick(self, references: list[str]) -> str:
        return self._rng.choice(references)

    def full_url(self) -> str:
        return f"urn:uuid:{uuid.UUID(int=self._rng.getrandbits(128), version=4)}"

    def mixed_bundle(self, size: int) -> Resource:
        """``size`` resources: one Patient per ten, each followed by Observations about it
        that point at the Patient's ``urn:uuid`` fullUrl."""
        entries: list[tuple[str, Resource]] = []
        subject = ""
        for index in range(size):
            if index % 10 == 0:
                subject = self.full_url()
                entries.append((subject, self.patient()))
            else:
                entries.append((self.full_url(), self.observation(subject, self.vital_code())))
        return transaction(entries)


def transaction(entries: list[tuple[str, Resource]]) -> Resource:
    """A transaction Bundle that POSTs each (fullUrl, resource)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": full_url,
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
            for full_url, resource in entries
        ],
    }


def _concept(code: str, display: str) -> Resource:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}
