"""Small readings of FHIR values shared by the record modules: instants, labels, references."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def parse_instant(value: object) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (a date alone: midnight UTC;
    a year or year-month: its first day)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        parts = [int(p) for p in text.split("-")]
        day = date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return None
    return datetime.combine(day, time(), UTC)


def concept_text(concept: object) -> str:
    """What a person reads of a CodeableConcept: its text, else a coding's display or code."""
    if not isinstance(concept, Mapping):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return ""


def has_code(concept: object, system: str, code: str) -> bool:
    return isinstance(concept, Mapping) and any(
        isinstance(c, Mapping) and c.get("system") == system and c.get("code") == code
        for c in concept.get("coding") or ()
    )


def human_name(resource: Mapping[str, Any]) -> str:
    """ "Dr Claire Rousseau" from the first HumanName (its text when given)."""
    for name in resource.get("name") or ():
        if not isinstance(name, Mapping):
            continue
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("prefix", ()), *name.get("given", ()), name.get("family", "")]
        joined = " ".join(str(p) for p in parts if p)
        if joined:
            return joined
    return ""


def reference_id(reference: object, resource_type: str) -> str | None:
    """The id in a (relative or absolute) reference to ``resource_type``, else None."""
    if not isinstance(reference, str):
        return None
    marker = f"{resource_type}/"
    head, found, tail = reference.rpartition(marker)
    if not found or (head and not head.endswith("/")):
        return None
    resource_id = tail.split("/", 1)[0]
    return resource_id or None
