"""What a patient's privacy Consent (FHIR R4) changes for the enforcement point.

Hygie honours three kinds of ``deny`` provision, at the root of ``Consent.provision`` or
nested in it (the opt-out shape of the FHIR examples):

- ``provision.actor`` naming Practitioners or Organizations: they are blocked;
- ``provision.data`` naming DocumentReferences: those documents are masked from every
  professional but their author;
- ``provision.purpose`` ETREAT or BTG: no break-the-glass access to this patient.

A deny Hygie cannot enforce (another actor or data type, or one without actor, data or
purpose) is refused with :class:`ConsentError` rather than silently half-honoured. Periods
are not interpreted: a deny holds until the Consent is withdrawn (status not ``active``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hygie.security.policy.errors import ConsentError

PRIVACY_SCOPE = "patient-privacy"
EMERGENCY_PURPOSES = frozenset({"ETREAT", "BTG"})
STATUSES = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})
_PATIENT = re.compile(r"Patient/[A-Za-z0-9\-.]{1,64}")
_ACTOR = re.compile(r"(Practitioner|Organization)/[A-Za-z0-9\-.]{1,64}")
_DOCUMENT = re.compile(r"DocumentReference/[A-Za-z0-9\-.]{1,64}")


@dataclass(frozen=True, slots=True)
class ConsentEffects:
    patient_ref: str
    blocked_actors: frozenset[str] = frozenset()  # "Practitioner/.." or "Organization/.."
    masked_documents: frozenset[str] = frozenset()  # "DocumentReference/.."
    emergency_forbidden: bool = False


def consent_effects(consent: dict[str, Any]) -> ConsentEffects:
    """The effects of one Consent; none unless it is an active patient-privacy consent."""
    if not isinstance(consent, dict) or consent.get("resourceType") != "Consent":
        raise ConsentError("not a FHIR Consent resource")
    status = consent.get("status")
    if status not in STATUSES:
        raise ConsentError(f"Consent.status must be one of {', '.join(sorted(STATUSES))}")
    patient_ref = _reference(consent.get("patient"), "Consent.patient")
    if not _PATIENT.fullmatch(patient_ref):
        raise ConsentError(f"Consent.patient must reference a Patient, got {patient_ref!r}")
    if status != "active" or not _is_privacy(consent.get("scope")):
        return ConsentEffects(patient_ref)
    blocked: set[str] = set()
    masked: set[str] = set()
    emergency_forbidden = False
    root = consent.get("provision")
    for path, provision in _provisions(root, "Consent.provision"):
        kind = provision.get("type")
        if kind not in (None, "permit", "deny"):
            raise ConsentError(f"{path}.type must be permit or deny, got {kind!r}")
        if kind != "deny":
            continue
        actors = [
            _reference(
                actor.get("reference") if isinstance(actor, dict) else None, f"{where}.reference"
            )
            for where, actor in _items(provision, "actor", path)
        ]
        documents = [
            _reference(
                data.get("reference") if isinstance(data, dict) else None, f"{where}.reference"
            )
            for where, data in _items(provision, "data", path)
        ]
        purposes = {coding.get("code") for _, coding in _items(provision, "purpose", path)}
        for ref in actors:
            if not _ACTOR.fullmatch(ref):
                raise ConsentError(
                    f"{path}.actor: Hygie can only block a Practitioner or an Organization, "
                    f"got {ref!r}"
                )
        for ref in documents:
            if not _DOCUMENT.fullmatch(ref):
                raise ConsentError(
                    f"{path}.data: Hygie can only mask a DocumentReference, got {ref!r}"
                )
        emergency = bool(purposes & EMERGENCY_PURPOSES)
        if purposes - EMERGENCY_PURPOSES:
            raise ConsentError(
                f"{path}.purpose: Hygie can only deny the purposes ETREAT and BTG, got "
                f"{', '.join(sorted(str(code) for code in purposes - EMERGENCY_PURPOSES))}"
            )
        if sum(map(bool, (actors, documents, emergency))) != 1:
            raise ConsentError(
                f"{path}: a deny provision needs exactly one of actor (who is blocked), "
                "data (which document is masked) or purpose ETREAT/BTG (no emergency access)"
            )
        blocked.update(actors)
        masked.update(documents)
        emergency_forbidden = emergency_forbidden or emergency
    return ConsentEffects(patient_ref, frozenset(blocked), frozenset(masked), emergency_forbidden)


def _is_privacy(scope: object) -> bool:
    if not isinstance(scope, dict):
        raise ConsentError("Consent.scope must be a CodeableConcept")
    codings = scope.get("coding", [])
    return isinstance(codings, list) and any(
        isinstance(coding, dict) and coding.get("code") == PRIVACY_SCOPE for coding in codings
    )


def _provisions(provision: object, path: str) -> list[tuple[str, dict[str, Any]]]:
    """The provision and every nested one, depth first, with its path for messages."""
    if provision is None:
        return []
    if not isinstance(provision, dict):
        raise ConsentError(f"{path} must be an object")
    found = [(path, provision)]
    for where, nested in _items(provision, "provision", path):
        found.extend(_provisions(nested, where))
    return found


def _items(parent: dict[str, Any], name: str, path: str) -> list[tuple[str, dict[str, Any]]]:
    """The elements of a repeating element, each an object ("purpose" are Codings)."""
    value = parent.get(name, [])
    if not isinstance(value, list):
        raise ConsentError(f"{path}.{name} must be a list")
    items = []
    for index, item in enumerate(value):
        where = f"{path}.{name}[{index}]"
        if not isinstance(item, dict):
            raise ConsentError(f"{where} must be an object")
        items.append((where, item))
    return items


def _reference(value: object, path: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
        raise ConsentError(f"{path} must be a Reference with a reference")
    return str(value["reference"])
