"""The care journey in one list, newest first: encounters, documents, appointments,
observations and messages, each with a French title.

One search per kind, sorted by date on the server (``_sort=-date``, ``-sent`` for messages)
and cut at ``limit``, then merged: the newest ``limit`` items overall are always among the
newest ``limit`` of their own kind. Every search goes through the caller's
:class:`FhirClient`, so the enforcement point decides what appears (a professional never
sees a document the patient hid, a blocked one sees nothing).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hygie.http.caller_fhir import FhirClient
from hygie.record.fhir_values import LOINC, concept_text, has_code, parse_instant

TIMELINE_KINDS: dict[str, str] = {
    "Consultations et séjours": "Encounter",
    "Documents": "DocumentReference",
    "Rendez-vous": "Appointment",
    "Mesures et résultats": "Observation",
    "Messages": "Communication",
}
MAX_LIMIT = 1000


class TimelineError(ValueError):
    """A filter that cannot be applied (French message)."""


@dataclass(frozen=True, slots=True)
class TimelineItem:
    when: datetime
    kind: str  # the resource type, a value of TIMELINE_KINDS
    title: str
    detail: str
    reference: str  # "Observation/12"


@dataclass(frozen=True, slots=True)
class _Kind:
    patient_param: str
    date_param: str
    when: Callable[[Mapping[str, Any]], object]  # the FHIR date the item is placed at
    describe: Callable[[Mapping[str, Any]], tuple[str, str]]  # (title, detail)


def build_timeline(
    fhir: FhirClient,
    patient_id: str,
    *,
    kinds: Iterable[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 200,
) -> list[TimelineItem]:
    """The patient's journey, newest first; ``kinds`` are resource types (default: all),
    ``since``/``until`` inclusive days."""
    wanted = list(TIMELINE_KINDS.values()) if kinds is None else list(dict.fromkeys(kinds))
    unknown = [k for k in wanted if k not in _KINDS]
    if unknown:
        raise TimelineError(f"Type d'élément inconnu : {', '.join(unknown)}.")
    if since is not None and until is not None and since > until:
        raise TimelineError("La date de début doit précéder la date de fin.")
    if not 1 <= limit <= MAX_LIMIT:
        raise TimelineError(f"Le nombre d'éléments doit être entre 1 et {MAX_LIMIT}.")
    per_kind = [_items(fhir, patient_id, k, since, until, limit) for k in wanted]
    merged = heapq.merge(*per_kind, key=lambda item: item.when, reverse=True)
    return [item for _, item in zip(range(limit), merged, strict=False)]


def _items(
    fhir: FhirClient,
    patient_id: str,
    resource_type: str,
    since: date | None,
    until: date | None,
    limit: int,
) -> list[TimelineItem]:
    kind = _KINDS[resource_type]
    params = [
        (kind.patient_param, f"Patient/{patient_id}"),
        ("_sort", f"-{kind.date_param}"),
        ("_count", str(limit)),
    ]
    if since is not None:
        params.append((kind.date_param, f"ge{since.isoformat()}"))
    if until is not None:
        params.append((kind.date_param, f"le{until.isoformat()}"))
    items = []
    for resource in fhir.search_resources(resource_type, params):
        when = parse_instant(kind.when(resource)) or parse_instant(
            (resource.get("meta") or {}).get("lastUpdated")
        )
        if when is None:
            continue
        title, detail = kind.describe(resource)
        items.append(
            TimelineItem(when, resource_type, title, detail, f"{resource_type}/{resource['id']}")
        )
    # The server sorts by the date parameter's range; resources without it come last.
    return sorted(items, key=lambda item: item.when, reverse=True)


# -- French titles ----------------------------------------------------------------------------

_ENCOUNTER_CLASSES = {
    "AMB": "Consultation",
    "IMP": "Hospitalisation",
    "ACUTE": "Hospitalisation",
    "SS": "Hospitalisation de jour",
    "EMER": "Passage aux urgences",
    "HH": "Visite à domicile",
    "VR": "Téléconsultation",
}
_APPOINTMENT_STATUS = {
    "proposed": "proposé",
    "pending": "en attente",
    "booked": "confirmé",
    "arrived": "patient arrivé",
    "fulfilled": "honoré",
    "cancelled": "annulé",
    "noshow": "non honoré",
    "entered-in-error": "saisi par erreur",
    "checked-in": "enregistré",
    "waitlist": "en liste d'attente",
}
SYSTOLIC, DIASTOLIC, BLOOD_PRESSURE = "8480-6", "8462-4", "85354-9"


def _encounter(resource: Mapping[str, Any]) -> tuple[str, str]:
    klass = resource.get("class") or {}
    title = _ENCOUNTER_CLASSES.get(str(klass.get("code")), "Prise en charge")
    service = next(
        (concept_text(c) for c in (resource.get("serviceType"), *resource.get("type", ())) if c),
        "",
    )
    if service:
        title = f"{title} — {service}"
    reasons = ", ".join(
        text for text in (concept_text(c) for c in resource.get("reasonCode", ())) if text
    )
    provider = (resource.get("serviceProvider") or {}).get("display", "")
    return title, " · ".join(part for part in (reasons, provider) if part)


def _document(resource: Mapping[str, Any]) -> tuple[str, str]:
    attachment = next(
        (c.get("attachment") or {} for c in resource.get("content", ()) if c.get("attachment")),
        {},
    )
    name = (
        resource.get("description") or attachment.get("title") or concept_text(resource.get("type"))
    )
    title = f"Document — {name}" if name else "Document"
    authors = ", ".join(
        a.get("display", "") for a in resource.get("author", ()) if a.get("display")
    )
    kind = concept_text(resource.get("type"))
    return title, " · ".join(part for part in (kind if kind != name else "", authors) if part)


def _appointment(resource: Mapping[str, Any]) -> tuple[str, str]:
    what = resource.get("description") or concept_text(
        next(iter(resource.get("serviceType", ())), None)
    )
    title = f"Rendez-vous — {what}" if what else "Rendez-vous"
    status = _APPOINTMENT_STATUS.get(str(resource.get("status")), str(resource.get("status", "")))
    return title, status


def _observation(resource: Mapping[str, Any]) -> tuple[str, str]:
    name = concept_text(resource.get("code")) or "Mesure"
    if has_code(resource.get("code"), LOINC, BLOOD_PRESSURE):
        values = {
            code: _quantity(component.get("valueQuantity"))
            for component in resource.get("component", ())
            for code in (SYSTOLIC, DIASTOLIC)
            if has_code(component.get("code"), LOINC, code)
        }
        systolic, diastolic = values.get(SYSTOLIC), values.get(DIASTOLIC)
        if systolic and diastolic:
            unit = systolic[1] or "mmHg"
            return f"Tension artérielle {systolic[0]}/{diastolic[0]} {unit}", ""
        return "Tension artérielle", ""
    value = _quantity(resource.get("valueQuantity"))
    if value is not None:
        return f"{name} {value[0]} {value[1]}".rstrip(), ""
    text = resource.get("valueString") or concept_text(resource.get("valueCodeableConcept"))
    return (f"{name} : {text}" if text else name), ""


def _communication(resource: Mapping[str, Any]) -> tuple[str, str]:
    category = next((concept_text(c) for c in resource.get("category", ()) if concept_text(c)), "")
    title = f"Message — {category}" if category else "Message"
    text = next(
        (p["contentString"] for p in resource.get("payload", ()) if p.get("contentString")), ""
    )
    return title, text if len(text) <= 280 else text[:279] + "…"


def _quantity(quantity: object) -> tuple[str, str] | None:
    if not isinstance(quantity, Mapping) or quantity.get("value") is None:
        return None
    value = quantity["value"]
    shown = f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value)
    return shown, str(quantity.get("unit") or quantity.get("code") or "")


_KINDS: dict[str, _Kind] = {
    "Encounter": _Kind(
        "patient", "date", lambda r: (r.get("period") or {}).get("start"), _encounter
    ),
    "DocumentReference": _Kind("patient", "date", lambda r: r.get("date"), _document),
    "Appointment": _Kind("patient", "date", lambda r: r.get("start"), _appointment),
    "Observation": _Kind(
        "patient",
        "date",
        lambda r: (
            r.get("effectiveDateTime")
            or (r.get("effectivePeriod") or {}).get("start")
            or r.get("effectiveInstant")
            or r.get("issued")
        ),
        _observation,
    ),
    "Communication": _Kind("patient", "sent", lambda r: r.get("sent"), _communication),
}
