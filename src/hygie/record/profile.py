"""The medical profile: allergies, current treatments, vaccinations, measurements and
history, read and added as the matching FHIR R4 resources (AllergyIntolerance,
MedicationStatement, Immunization, vital-signs Observation, Condition).

The patient and the professionals with access add to it through their own
:class:`FhirClient` (the enforcement point decides). A form is checked whole before
anything is written: any problem raises :class:`ProfileError` with a French message and
nothing is stored. What a known code exists for is coded (LOINC for measurements, ATC for
common medicines, CVX for vaccines, SNOMED CT for common allergies and conditions); the
rest is kept as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hygie.http.caller_fhir import FhirClient
from hygie.record.fhir_values import LOINC, SNOMED, UCUM, concept_text, has_code, parse_instant
from hygie.record.timeline import BLOOD_PRESSURE, DIASTOLIC, SYSTOLIC

ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
MAX_TEXT = 200

PROFILE_SECTIONS: dict[str, str] = {
    "allergies": "Allergies",
    "traitements": "Traitements en cours",
    "vaccinations": "Vaccinations",
    "mesures": "Mesures",
    "antecedents": "Antécédents",
}


class ProfileError(ValueError):
    """A profile entry that cannot be recorded; the message says why, in French."""


@dataclass(frozen=True, slots=True)
class ProfileItem:
    label: str
    detail: str
    when: datetime | None
    reference: str


@dataclass(frozen=True, slots=True)
class ProfileSection:
    key: str
    title: str
    items: list[ProfileItem]


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a section's form, for the pages: ``choices`` value -> French label."""

    name: str
    label: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()


# -- codes ------------------------------------------------------------------------------------

# French name (lower case, no accent needed) -> (code, display)
KNOWN_ALLERGENS = {
    "penicilline": ("764146007", "Penicillin (substance)"),
    "arachide": ("256349002", "Peanut - dietary (substance)"),
    "latex": ("111088007", "Latex (substance)"),
    "aspirine": ("387458008", "Aspirin (substance)"),
    "pollen": ("256259004", "Pollen (substance)"),
}
KNOWN_MEDICINES = {
    "paracetamol": ("N02BE01", "paracetamol"),
    "amlodipine": ("C08CA01", "amlodipine"),
    "metformine": ("A10BA02", "metformin"),
    "levothyroxine": ("H03AA01", "levothyroxine sodium"),
    "atorvastatine": ("C10AA05", "atorvastatin"),
    "ramipril": ("C09AA05", "ramipril"),
    "bisoprolol": ("C07AB07", "bisoprolol"),
    "omeprazole": ("A02BC01", "omeprazole"),
}
# choice value -> (CVX code, French label)
VACCINES = {
    "grippe": ("88", "Grippe saisonnière"),
    "covid19": ("213", "COVID-19"),
    "dtp": ("139", "Diphtérie-tétanos"),
    "hepatite-b": ("45", "Hépatite B"),
    "ror": ("03", "Rougeole-oreillons-rubéole (ROR)"),
    "hpv": ("137", "Papillomavirus (HPV)"),
    "pneumocoque": ("109", "Pneumocoque"),
}
KNOWN_CONDITIONS = {
    "hypertension arterielle": ("38341003", "Hypertensive disorder"),
    "diabete de type 2": ("44054006", "Diabetes mellitus type 2"),
    "asthme": ("195967001", "Asthma"),
}


@dataclass(frozen=True, slots=True)
class Measure:
    label: str  # French
    loinc: str
    display: str  # LOINC display
    unit: str  # UCUM
    shown_unit: str
    low: float
    high: float


MEASURES: dict[str, Measure] = {
    "poids": Measure("Poids", "29463-7", "Body weight", "kg", "kg", 0.3, 500),
    "taille": Measure("Taille", "8302-2", "Body height", "cm", "cm", 20, 260),
    "frequence-cardiaque": Measure(
        "Fréquence cardiaque", "8867-4", "Heart rate", "/min", "/min", 20, 300
    ),
    "temperature": Measure("Température", "8310-5", "Body temperature", "Cel", "°C", 30, 45),
    "saturation": Measure(
        "Saturation en oxygène", "2708-6", "Oxygen saturation in Arterial blood", "%", "%", 50, 100
    ),
}
SYSTOLIC_RANGE = (50.0, 300.0)
DIASTOLIC_RANGE = (20.0, 200.0)
SEVERITIES = {
    "legere": ("mild", "Légère"),
    "moderee": ("moderate", "Modérée"),
    "severe": ("severe", "Sévère"),
}

PROFILE_FORMS: dict[str, tuple[FormField, ...]] = {
    "allergies": (
        FormField("substance", "Substance ou aliment", required=True),
        FormField("reaction", "Réaction observée"),
        FormField("gravite", "Gravité", choices=tuple((k, v[1]) for k, v in SEVERITIES.items())),
    ),
    "traitements": (
        FormField("medicament", "Médicament", required=True),
        FormField("posologie", "Posologie"),
        FormField("debut", "Depuis le (AAAA-MM-JJ)"),
    ),
    "vaccinations": (
        FormField(
            "vaccin", "Vaccin", required=True, choices=tuple((k, v[1]) for k, v in VACCINES.items())
        ),
        FormField("date", "Date (AAAA-MM-JJ)", required=True),
        FormField("lot", "Numéro de lot"),
    ),
    "mesures": (
        FormField(
            "mesure",
            "Mesure",
            required=True,
            choices=(
                *((k, m.label) for k, m in MEASURES.items()),
                ("tension", "Tension artérielle"),
            ),
        ),
        FormField("valeur", "Valeur (poids en kg, taille en cm, température en °C …)"),
        FormField("systolique", "Tension : systolique (mmHg)"),
        FormField("diastolique", "Tension : diastolique (mmHg)"),
        FormField("date", "Date (AAAA-MM-JJ, aujourd'hui si vide)"),
    ),
    "antecedents": (
        FormField("libelle", "Maladie ou intervention", required=True),
        FormField("debut", "Depuis le (AAAA-MM-JJ)"),
        FormField("statut", "Statut", choices=(("actif", "En cours"), ("gueri", "Guéri / résolu"))),
    ),
}


# -- reading ----------------------------------------------------------------------------------


def read_profile(fhir: FhirClient, patient_id: str) -> list[ProfileSection]:
    """The five sections, each newest first."""
    patient = f"Patient/{patient_id}"
    sections = []
    for key, (resource_type, params, describe) in _READERS.items():
        found = fhir.search_resources(
            resource_type, [("patient", patient), *params, ("_count", "200")]
        )
        items = [describe(r) for r in found]
        items.sort(key=lambda i: i.when or datetime.min.replace(tzinfo=UTC), reverse=True)
        sections.append(ProfileSection(key, PROFILE_SECTIONS[key], items))
    return sections


def _allergy_item(r: Mapping[str, Any]) -> ProfileItem:
    reactions = [
        concept_text(m)
        for reaction in r.get("reaction", ())
        for m in reaction.get("manifestation", ())
    ]
    severity = next((x.get("severity") for x in r.get("reaction", ()) if x.get("severity")), None)
    shown = {v[0]: v[1] for v in SEVERITIES.values()}.get(str(severity), "")
    detail = " · ".join(p for p in (", ".join(t for t in reactions if t), shown) if p)
    when = parse_instant(r.get("recordedDate") or r.get("onsetDateTime"))
    return ProfileItem(concept_text(r.get("code")) or "Allergie", detail, when, _ref(r))


def _medication_item(r: Mapping[str, Any]) -> ProfileItem:
    dosage = ", ".join(d.get("text", "") for d in r.get("dosage", ()) if d.get("text"))
    when = parse_instant(
        r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start")
    )
    since = f"depuis le {when:%d/%m/%Y}" if when else ""
    detail = " · ".join(p for p in (dosage, since) if p)
    return ProfileItem(
        concept_text(r.get("medicationCodeableConcept")) or "Médicament", detail, when, _ref(r)
    )


def _immunization_item(r: Mapping[str, Any]) -> ProfileItem:
    when = parse_instant(r.get("occurrenceDateTime"))
    detail = f"lot {r['lotNumber']}" if r.get("lotNumber") else ""
    return ProfileItem(concept_text(r.get("vaccineCode")) or "Vaccin", detail, when, _ref(r))


def _measure_item(r: Mapping[str, Any]) -> ProfileItem:
    when = parse_instant(
        r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start")
    )
    if has_code(r.get("code"), LOINC, BLOOD_PRESSURE):
        values = {
            code: (component.get("valueQuantity") or {}).get("value")
            for component in r.get("component", ())
            for code in (SYSTOLIC, DIASTOLIC)
            if has_code(component.get("code"), LOINC, code)
        }
        shown = f"{_number(values.get(SYSTOLIC))}/{_number(values.get(DIASTOLIC))} mmHg"
        return ProfileItem("Tension artérielle", shown, when, _ref(r))
    quantity = r.get("valueQuantity") or {}
    shown = f"{_number(quantity.get('value'))} {quantity.get('unit') or quantity.get('code') or ''}"
    return ProfileItem(concept_text(r.get("code")) or "Mesure", shown.strip(), when, _ref(r))


def _condition_item(r: Mapping[str, Any]) -> ProfileItem:
    when = parse_instant(r.get("onsetDateTime") or r.get("recordedDate"))
    status = concept_text(r.get("clinicalStatus"))
    detail = {"active": "en cours", "resolved": "guéri / résolu", "inactive": "inactif"}.get(
        status, status
    )
    return ProfileItem(concept_text(r.get("code")) or "Antécédent", detail, when, _ref(r))


_READERS: dict[
    str, tuple[str, list[tuple[str, str]], Callable[[Mapping[str, Any]], ProfileItem]]
] = {
    "allergies": ("AllergyIntolerance", [], _allergy_item),
    "traitements": ("MedicationStatement", [("status", "active,intended")], _medication_item),
    "vaccinations": ("Immunization", [], _immunization_item),
    "mesures": ("Observation", [("category", "vital-signs"), ("_sort", "-date")], _measure_item),
    "antecedents": ("Condition", [], _condition_item),
}


# -- adding -----------------------------------------------------------------------------------


def add_to_profile(
    fhir: FhirClient,
    patient_id: str,
    author_ref: str,
    section_key: str,
    form: Mapping[str, str],
) -> str:
    """Record one entry of ``section_key`` from a form; returns its reference ("Type/id").

    ``author_ref`` is who records it ("Patient/.." or "Practitioner/.."): a patient's own
    statements are marked as such (unconfirmed allergy, secondary-source vaccination).
    """
    builder = _BUILDERS.get(section_key)
    if builder is None:
        raise ProfileError(f"Rubrique inconnue : {section_key!r}.")
    if not re.fullmatch(
        r"(Patient|Practitioner|PractitionerRole|RelatedPerson)/[A-Za-z0-9\-.]{1,64}", author_ref
    ):
        raise ProfileError("L'auteur de la saisie doit être un patient ou un professionnel.")
    if author_ref.startswith("Patient/") and author_ref != f"Patient/{patient_id}":
        # Naming oneself recorder would put the entry in one's own compartment too: the
        # enforcement point would then let a patient write into another's record.
        raise ProfileError("Un patient ne complète que son propre profil.")
    fields = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    allowed = {f.name for f in PROFILE_FORMS[section_key]}
    unknown = sorted(set(fields) - allowed - {"csrf"})
    if unknown:
        raise ProfileError(f"Champ inconnu : {', '.join(unknown)}.")
    for field in PROFILE_FORMS[section_key]:
        if field.required and not fields.get(field.name):
            raise ProfileError(f"Le champ « {field.label} » est obligatoire.")
        if len(fields.get(field.name, "")) > MAX_TEXT:
            raise ProfileError(f"Le champ « {field.label} » dépasse {MAX_TEXT} caractères.")
        if (
            field.choices
            and fields.get(field.name)
            and fields[field.name] not in dict(field.choices)
        ):
            raise ProfileError(f"Valeur non proposée pour « {field.label} ».")
    resource = builder(f"Patient/{patient_id}", author_ref, fields)
    created = fhir.create(resource)
    return f"{created['resourceType']}/{created['id']}"


def _allergy(patient: str, author: str, form: Mapping[str, str]) -> dict[str, Any]:
    by_patient = author.startswith("Patient/")
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS, "code": "active"}]},
        "verificationStatus": {
            "coding": [
                {"system": VERIFICATION, "code": "unconfirmed" if by_patient else "confirmed"}
            ]
        },
        "code": _coded(form["substance"], KNOWN_ALLERGENS, SNOMED),
        "patient": {"reference": patient},
        "recordedDate": _now(),
        "recorder": {"reference": author},
    }
    if by_patient:
        resource["asserter"] = {"reference": author}
    reaction: dict[str, Any] = {}
    if form.get("reaction"):
        reaction["manifestation"] = [{"text": form["reaction"]}]
    if form.get("gravite"):
        if not reaction:
            raise ProfileError("Indiquez la réaction observée pour en donner la gravité.")
        reaction["severity"] = SEVERITIES[form["gravite"]][0]
    if reaction:
        resource["reaction"] = [reaction]
    return resource


def _medication(patient: str, author: str, form: Mapping[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": _coded(form["medicament"], KNOWN_MEDICINES, ATC),
        "subject": {"reference": patient},
        "dateAsserted": _now(),
        "informationSource": {"reference": author},
    }
    if form.get("debut"):
        resource["effectivePeriod"] = {"start": _past_date(form["debut"], "Depuis le").isoformat()}
    if form.get("posologie"):
        resource["dosage"] = [{"text": form["posologie"]}]
    return resource


def _immunization(patient: str, author: str, form: Mapping[str, str]) -> dict[str, Any]:
    code, label = VACCINES[form["vaccin"]]
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX, "code": code}], "text": label},
        "patient": {"reference": patient},
        "occurrenceDateTime": _past_date(form["date"], "Date").isoformat(),
        "recorded": _now(),
        "primarySource": not author.startswith("Patient/"),
    }
    if author.startswith("Patient/"):
        resource["reportOrigin"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/immunization-origin",
                    "code": "recall",
                    "display": "Parent/Guardian/Patient Recall",
                }
            ]
        }
    else:
        resource["performer"] = [{"actor": {"reference": author}}]
    if form.get("lot"):
        resource["lotNumber"] = form["lot"]
    return resource


def _measurement(patient: str, author: str, form: Mapping[str, str]) -> dict[str, Any]:
    taken = _past_date(form["date"], "Date").isoformat() if form.get("date") else _now()
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": OBSERVATION_CATEGORY,
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "subject": {"reference": patient},
        "effectiveDateTime": taken,
        "performer": [{"reference": author}],
    }
    kind = form["mesure"]
    if kind == "tension":
        systolic = _number_in(form.get("systolique", ""), "La tension systolique", SYSTOLIC_RANGE)
        diastolic = _number_in(
            form.get("diastolique", ""), "La tension diastolique", DIASTOLIC_RANGE
        )
        if diastolic >= systolic:
            raise ProfileError("La tension diastolique doit être inférieure à la systolique.")
        resource["code"] = _loinc(
            BLOOD_PRESSURE, "Blood pressure panel with all children optional", "Tension artérielle"
        )
        resource["component"] = [
            {"code": _loinc(SYSTOLIC, "Systolic blood pressure"), "valueQuantity": _mmhg(systolic)},
            {
                "code": _loinc(DIASTOLIC, "Diastolic blood pressure"),
                "valueQuantity": _mmhg(diastolic),
            },
        ]
        return resource
    measure = MEASURES[kind]
    value = _number_in(form.get("valeur", ""), measure.label, (measure.low, measure.high))
    resource["code"] = _loinc(measure.loinc, measure.display, measure.label)
    resource["valueQuantity"] = {
        "value": value,
        "unit": measure.shown_unit,
        "system": UCUM,
        "code": measure.unit,
    }
    return resource


def _condition(patient: str, author: str, form: Mapping[str, str]) -> dict[str, Any]:
    status = "resolved" if form.get("statut") == "gueri" else "active"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": _coded(form["libelle"], KNOWN_CONDITIONS, SNOMED),
        "subject": {"reference": patient},
        "recordedDate": _now(),
        "recorder": {"reference": author},
    }
    if author.startswith("Patient/"):
        resource["asserter"] = {"reference": author}
    if form.get("debut"):
        resource["onsetDateTime"] = _past_date(form["debut"], "Depuis le").isoformat()
    return resource


_BUILDERS: dict[str, Callable[[str, str, Mapping[str, str]], dict[str, Any]]] = {
    "allergies": _allergy,
    "traitements": _medication,
    "vaccinations": _immunization,
    "mesures": _measurement,
    "antecedents": _condition,
}


# -- helpers ----------------------------------------------------------------------------------


def _coded(text: str, known: Mapping[str, tuple[str, str]], system: str) -> dict[str, Any]:
    """The concept for ``text``: coded when it names a known concept, its text kept."""
    concept: dict[str, Any] = {"text": text}
    found = known.get(_fold(text))
    if found is not None:
        concept["coding"] = [{"system": system, "code": found[0], "display": found[1]}]
    return concept


def _fold(text: str) -> str:
    """Lower case without French accents: "Pénicilline" and "penicilline" are one name."""
    table = str.maketrans("àâäéèêëîïôöùûüç", "aaaeeeeiioouuuc")
    return " ".join(text.lower().translate(table).split())


def _loinc(code: str, display: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": LOINC, "code": code, "display": display}]}
    if text:
        concept["text"] = text
    return concept


def _mmhg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}


def _number_in(text: str, label: str, bounds: tuple[float, float]) -> float | int:
    """A decimal typed the French way ("72,5") within ``bounds``."""
    if not text:
        raise ProfileError(f"{label} : indiquez une valeur.")
    if not re.fullmatch(r"\d{1,4}([.,]\d{1,2})?", text):
        raise ProfileError(f"{label} : « {text} » n'est pas un nombre (exemple : 72,5).")
    value = float(text.replace(",", "."))
    low, high = bounds
    if not low <= value <= high:
        raise ProfileError(f"{label} : {text} est hors des valeurs possibles ({low:g} à {high:g}).")
    return int(value) if value.is_integer() else value


def _past_date(text: str, label: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ProfileError(f"{label} : « {text} » n'est pas une date AAAA-MM-JJ.") from None
    if day > datetime.now(UTC).date():
        raise ProfileError(f"{label} : la date ne peut pas être dans le futur.")
    if day.year < 1900:
        raise ProfileError(f"{label} : la date est trop ancienne.")
    return day


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return "" if value is None else str(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ref(resource: Mapping[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"
