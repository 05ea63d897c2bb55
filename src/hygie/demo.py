"""The demo hospital that ``hygie demo`` loads: believable, deterministic, idempotent.

Everything is sent as one FHIR transaction Bundle of conditional creates keyed on a
``urn:hygie:demo`` identifier, so running it twice leaves one copy of each resource.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hygie.fhir.access import SystemAccess, SystemAudit
from hygie.fhir.bundles import BundleProcessor
from hygie.fhir.reads import ReadService
from hygie.fhir.store import FhirStore
from hygie.identity.ins import NIR_OID, Ins, Sex, Traits, ins_key, parse_ins
from hygie.identity.insi import InsiIdentity, LocalInsi
from hygie.identity.names import plain
from hygie.identity.patient import birth_place_extension, ins_identifier
from hygie.identity.status import IdentityStatus, reliability_extension
from hygie.record.demo_profile import add_demo_profile
from hygie.security.accounts.identity import rpps_is_valid

DEMO_SYSTEM = "urn:hygie:demo"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

_FAMILIES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
]
_WOMEN = [
    "Hélène",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sophie",
    "Élodie",
    "Anaïs",
    "Nathalie",
    "Isabelle",
    "Françoise",
]
_MEN = [
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Jules",
    "Arthur",
    "Théo",
    "Raphaël",
    "Noé",
    "Jérôme",
    "François",
    "Benoît",
]
# (city, postal code, INSEE code): patients were born where they live; Paris, Lyon and
# Marseille are coded by arrondissement, as the NIR and the INSEE code of birth place are.
_CITIES = [
    ("Paris", "75013", "75113"),
    ("Lyon", "69003", "69383"),
    ("Marseille", "13005", "13205"),
    ("Grenoble", "38000", "38185"),
    ("Ajaccio", "20000", "2A004"),
    ("Lille", "59000", "59350"),
]
# Identity statuses (RNIV): most patients are qualifiée; these are not, yet.
_VALIDATED = {5, 17}  # identity document checked, INSi not called yet: no INS
_PROVISIONAL = {11}  # nothing checked (admitted at night through the emergency room)
_RECOVERED = {8}  # INSi matched, identity document not seen yet
_DUPLICATE_OF = 12  # Lefèvre: re-registered as "LEFEBVRE" at the emergency desk
_SERVICES = ["Cardiologie", "Radiologie", "Chirurgie digestive", "Urgences", "Pneumologie"]
_STAFF = [
    ("Claire", "Rousseau", "female", "Cardiologie", "Cardiologue"),
    ("Marc", "Lambert", "male", "Chirurgie digestive", "Chirurgien viscéral"),
    ("Aurélie", "Fontaine", "female", "Radiologie", "Radiologue"),
    ("Karim", "Benali", "male", "Urgences", "Médecin urgentiste"),
    ("Sylvie", "Chevalier", "female", "Pneumologie", "Pneumologue"),
    ("Paul", "Nguyen", "male", "Cardiologie", "Infirmier"),
]
# (LOINC code, display, unit, UCUM code, mean, spread)
_VITALS = [
    ("8867-4", "Fréquence cardiaque", "/min", "/min", 74, 9),
    ("8310-5", "Température corporelle", "°C", "Cel", 36.9, 0.4),
    ("9279-1", "Fréquence respiratoire", "/min", "/min", 16, 2),
    ("2708-6", "Saturation en oxygène", "%", "%", 97, 1.5),
    ("29463-7", "Poids", "kg", "kg", 72, 12),
]


def demo_rpps(n: int) -> str:
    """The n-th demo RPPS number: 11 digits whose last is the Luhn key, as real ones."""
    base = f"1010023{450 + n * 7:03d}"
    return next(base + d for d in "0123456789" if rpps_is_valid(base + d))


@dataclass(frozen=True)
class _DemoPerson:
    family: str
    given: str
    female: bool
    birth: date
    place: tuple[str, str, str]  # city, postal code, INSEE code
    order: int
    phone: str

    def ins(self) -> Ins:
        """The NIR: Corsica was department 20 for births before 1976."""
        place = self.place[2]
        if place[:2] in ("2A", "2B") and self.birth.year < 1976:
            place = "20" + place[2:]
        number = f"{2 if self.female else 1}{self.birth:%y%m}{place}{self.order:03d}"
        return parse_ins(number + ins_key(number), NIR_OID)

    def traits(self) -> Traits:
        sex: Sex = "F" if self.female else "M"
        return Traits(self.family, (self.given,), self.birth, sex, self.place[2])


def _status(i: int) -> IdentityStatus:
    if i in _VALIDATED:
        return IdentityStatus.VALIDEE
    if i in _PROVISIONAL:
        return IdentityStatus.PROVISOIRE
    return IdentityStatus.RECUPEREE if i in _RECOVERED else IdentityStatus.QUALIFIEE


def _patient(person: _DemoPerson, status: IdentityStatus, chu: str, today: date) -> dict[str, Any]:
    """A patient with the INS (once INSi matched) and the status RNIV gives them."""
    document = ("CN" if person.order % 3 else "PA") if status.document_checked else None
    checked_on = today - timedelta(days=200 + person.order) if document else None
    city, postal, insee = person.place
    return {
        "resourceType": "Patient",
        "active": True,
        "extension": [
            reliability_extension(status, document=document, checked_on=checked_on),
            birth_place_extension(insee, city),
        ],
        "identifier": [ins_identifier(person.ins())] if status.insi_matched else [],
        "name": [{"use": "official", "family": person.family, "given": [person.given]}],
        "gender": "female" if person.female else "male",
        "birthDate": person.birth.isoformat(),
        "address": [{"city": city, "postalCode": postal, "country": "FR"}],
        "telecom": [{"system": "phone", "value": person.phone}],
        "managingOrganization": {"reference": chu},
    }


def _emergency_duplicate(person: _DemoPerson, chu: str) -> dict[str, Any]:
    """The same person registered again, provisoire, name typed without its accent and
    in its older spelling: the identity office must find and merge the pair."""
    return {
        "resourceType": "Patient",
        "active": True,
        "extension": [reliability_extension(IdentityStatus.PROVISOIRE)],
        "name": [{"use": "official", "family": "LEFEBVRE", "given": [plain(person.given)]}],
        "gender": "female" if person.female else "male",
        "birthDate": person.birth.isoformat(),
        "managingOrganization": {"reference": chu},
    }


class _Builder:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, key: str, resource: dict[str, Any]) -> str:
        """Queue a conditional create; returns the fullUrl other entries reference it by."""
        full_url = f"urn:uuid:00000000-0000-4000-8000-{len(self.entries):012d}"
        identifier = {"system": DEMO_SYSTEM, "value": key}
        resource.setdefault("identifier", []).append(identifier)
        self.entries.append(
            {
                "fullUrl": full_url,
                "resource": resource,
                "request": {
                    "method": "POST",
                    "url": resource["resourceType"],
                    "ifNoneExist": f"identifier={DEMO_SYSTEM}|{key}",
                },
            }
        )
        return full_url


def demo_bundle(
    today: datetime | None = None, *, directory: list[InsiIdentity] | None = None
) -> dict[str, Any]:
    """The demo hospital as a transaction Bundle; ``directory`` receives the patients'
    identities as the national directory (INSi) knows them."""
    rng = random.Random(20261128)  # noqa: S311 - demo data, not security
    today = (today or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    b = _Builder()
    chu = b.add(
        "org-chu",
        {
            "resourceType": "Organization",
            "active": True,
            "name": "CHU Hygie",
            "identifier": [{"system": FINESS_SYSTEM, "value": "380780080"}],
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": "prov",
                            "display": "Healthcare Provider",
                        }
                    ]
                }
            ],
            "address": [
                {
                    "line": ["Boulevard de la Chantourne"],
                    "city": "La Tronche",
                    "postalCode": "38700",
                    "country": "FR",
                }
            ],
        },
    )
    services = {
        name: b.add(
            f"org-{i}",
            {
                "resourceType": "Organization",
                "active": True,
                "name": f"Service de {name.lower()}",
                "partOf": {"reference": chu},
            },
        )
        for i, name in enumerate(_SERVICES)
    }
    staff = []
    for i, (given, family, gender, service, role) in enumerate(_STAFF):
        practitioner = b.add(
            f"pract-{i}",
            {
                "resourceType": "Practitioner",
                "active": True,
                "gender": gender,
                "identifier": [{"system": RPPS_SYSTEM, "value": demo_rpps(i)}],
                "name": [
                    {
                        "family": family,
                        "given": [given],
                        **({"prefix": ["Dr"]} if role != "Infirmier" else {}),
                    }
                ],
                "telecom": [
                    {
                        "system": "email",
                        "value": f"{given.lower()}.{family.lower()}@chu-hygie.mssante.fr",
                    }
                ],
            },
        )
        b.add(
            f"role-{i}",
            {
                "resourceType": "PractitionerRole",
                "active": True,
                "practitioner": {"reference": practitioner},
                "organization": {"reference": services[service]},
                "code": [{"text": role}],
            },
        )
        staff.append(practitioner)
    for i in range(24):
        female = i % 2 == 0
        given = rng.choice(_WOMEN if female else _MEN)
        family = _FAMILIES[i]
        birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
        place = rng.choice(_CITIES)
        order = rng.randrange(1, 999)
        phone = "06 " + " ".join(str(rng.randrange(10, 99)) for _ in range(4))
        person = _DemoPerson(family, given, female, birth.date(), place, order, phone)
        if directory is not None:
            directory.append(InsiIdentity(person.ins(), person.traits()))
        patient = b.add(f"patient-{i}", _patient(person, _status(i), chu, today.date()))
        if i == _DUPLICATE_OF:
            b.add("patient-24", _emergency_duplicate(person, chu))
        doctor = staff[i % len(staff)]
        visit = today - timedelta(days=rng.randrange(1, 120), hours=rng.randrange(0, 9))
        add_demo_profile(b.add, i, patient, doctor, visit)
        encounter = b.add(
            f"enc-{i}",
            {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                    "display": "ambulatory",
                },
                "subject": {"reference": patient},
                "participant": [{"individual": {"reference": doctor}}],
                "period": {
                    "start": visit.isoformat(),
                    "end": (visit + timedelta(hours=1)).isoformat(),
                },
                "serviceProvider": {"reference": chu},
            },
        )
        for day in range(3):
            taken = visit - timedelta(days=day * 30)
            for code, display, unit, ucum, mean, spread in _VITALS:
                value = round(rng.gauss(mean, spread), 1)
                b.add(
                    f"obs-{i}-{day}-{code}",
                    {
                        "resourceType": "Observation",
                        "status": "final",
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": "vital-signs",
                                    }
                                ]
                            }
                        ],
                        "code": {
                            "coding": [{"system": LOINC, "code": code, "display": display}],
                            "text": display,
                        },
                        "subject": {"reference": patient},
                        "encounter": {"reference": encounter},
                        "effectiveDateTime": taken.isoformat(),
                        "valueQuantity": {
                            "value": value,
                            "unit": unit,
                            "system": UCUM,
                            "code": ucum,
                        },
                    },
                )
        start = (today + timedelta(days=rng.randrange(1, 30))).replace(hour=rng.randrange(8, 17))
        b.add(
            f"appt-{i}",
            {
                "resourceType": "Appointment",
                "status": "booked",
                "description": "Consultation de suivi",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
                "participant": [
                    {"actor": {"reference": patient}, "status": "accepted"},
                    {"actor": {"reference": doctor}, "status": "accepted"},
                ],
            },
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": b.entries}


def demo_insi() -> LocalInsi:
    """The INSi teleservice as the demo patients' national directory would answer it."""
    directory: list[InsiIdentity] = []
    demo_bundle(directory=directory)
    return LocalInsi(directory)


def load_demo(
    store: FhirStore,
    fhir_base: str = "http://127.0.0.1:8000/fhir",
    *,
    audit: SystemAudit | None = None,
) -> str:
    """Load the demo hospital as Hygie itself (``SystemAccess``, audited when ``audit``)."""
    reads = ReadService(store, fhir_base=fhir_base, default_count=20, max_count=1000)
    response = BundleProcessor(store, reads, fhir_base=fhir_base).process(
        demo_bundle(), guard=SystemAccess(reason="demo data load", audit=audit)
    )
    statuses = Counter(e["response"]["status"] for e in response["entry"])
    created = statuses.get("201 Created", 0)
    kept = statuses.get("200 OK", 0)
    return f"demo hospital: {created} resources created, {kept} already present"
