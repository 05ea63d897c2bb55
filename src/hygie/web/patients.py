"""Finding a patient (by INS or by traits) and the header of their record, for professionals.

Searches go through the caller's FHIR client: the enforcement point only lets a
professional find the patients they care for (or hold a break-the-glass grant on), minus
those who block them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from hygie.http.caller_fhir import FhirClient
from hygie.identity.ins import INS_SYSTEMS, NIA_OID, NIR_OID, InsError, format_ins, parse_ins
from hygie.identity.status import identity_status
from hygie.web.render import FormErrors, parse_date_fr

MAX_RESULTS = 50
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_GENDER = {"female": "Femme", "male": "Homme", "other": "Autre", "unknown": "Inconnu"}


@dataclass(frozen=True)
class PatientCard:
    id: str
    name: str
    birth_date: date | None
    gender: str
    ins: str  # formatted for display, "" when the record has none
    identity_status: str  # its French label: "Identité qualifiée" ...


@dataclass(frozen=True)
class PatientQuery:
    """What the search form asked for, as typed (shown back in the form)."""

    ins: str = ""
    family: str = ""
    given: str = ""
    birth_date: str = ""

    @property
    def empty(self) -> bool:
        return not (self.ins or self.family or self.given or self.birth_date)


def search_params(query: PatientQuery, errors: FormErrors) -> list[tuple[str, str]]:
    """The FHIR search for the form, or an empty list with the reasons in ``errors``."""
    if query.ins:
        try:
            value = parse_ins(query.ins.upper(), NIR_OID).number
        except InsError as nir_error:
            try:
                value = parse_ins(query.ins.upper(), NIA_OID).number
            except InsError:
                errors.add("ins", f"INS invalide : {nir_error}.")
                return []
        systems = ",".join(f"{system}|{value}" for system in INS_SYSTEMS)
        return [("identifier", systems), ("_count", str(MAX_RESULTS))]
    if not query.family:
        errors.add("nom", "Saisissez l'INS du patient, ou au moins son nom de naissance.")
        return []
    params = [("family", query.family), ("_count", str(MAX_RESULTS))]
    if query.given:
        params.append(("given", query.given))
    if query.birth_date:
        born = parse_date_fr(query.birth_date)
        if born is None or born > date.today():
            errors.add(
                "naissance", "Date de naissance invalide : saisissez-la au format JJ/MM/AAAA."
            )
            return []
        params.append(("birthdate", born.isoformat()))
    return params


def find_patients(fhir: FhirClient, params: list[tuple[str, str]]) -> list[PatientCard]:
    cards = [patient_card(p) for p in fhir.search_resources("Patient", params)]
    return sorted(cards, key=lambda card: card.name)


def read_patient(fhir: FhirClient, patient_id: str) -> PatientCard:
    return patient_card(fhir.read("Patient", patient_id))


def patient_card(patient: dict[str, Any]) -> PatientCard:
    born = patient.get("birthDate")
    return PatientCard(
        id=patient["id"],
        name=display_name(patient),
        birth_date=date.fromisoformat(born) if isinstance(born, str) and len(born) == 10 else None,
        gender=_GENDER.get(patient.get("gender", ""), ""),
        ins=_ins_display(patient),
        identity_status=identity_status(patient).label,
    )


def display_name(resource: dict[str, Any]) -> str:
    names = resource.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    if official.get("text"):
        return str(official["text"])
    given = " ".join(official.get("given", []))
    family = str(official.get("family", "")).upper()
    prefix = " ".join(official.get("prefix", []))
    return " ".join(part for part in (prefix, given, family) if part) or "(sans nom)"


def _ins_display(patient: dict[str, Any]) -> str:
    for identifier in patient.get("identifier", []):
        oid = INS_SYSTEMS.get(identifier.get("system", ""))
        if oid and identifier.get("value"):
            try:
                return format_ins(parse_ins(identifier["value"], oid))
            except InsError:
                return str(identifier["value"])
    return ""
