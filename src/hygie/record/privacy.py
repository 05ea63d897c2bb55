"""The patient's privacy settings, kept as their one privacy ``Consent`` (FHIR R4).

The enforcement point honours three kinds of ``deny`` provision (security/policy/consent.py):
blocked Practitioners or Organizations, DocumentReferences masked from every professional
but their author, and the purposes ETREAT/BTG (no break-the-glass access). Each change here
reads the settings, rewrites the Consent whole and writes it back through the caller's
:class:`FhirClient` with ``If-Match``, so two changes made at once cannot lose one another;
the policy lets only the patient write it (a professional gets 403).

The Consent has a fixed id per patient (``privacy-<patient id>``): updating it creates it
the first time, so concurrent first changes cannot make two. Privacy Consents written
through the FHIR API by other means are honoured by the PEP and shown here too; lifting a
block or a mask removes it from them as well.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.record.fhir_values import LOINC, reference_id
from hygie.security.policy.consent import PRIVACY_SCOPE

CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PRIVACY_CATEGORY = {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_ACTOR = re.compile(r"(Practitioner|Organization)/[A-Za-z0-9\-.]{1,64}")
_ATTEMPTS = 3  # a change lost to a concurrent one is retried on the fresh version


class PrivacyError(ValueError):
    """A privacy change that cannot be made; the message is French, for the patient."""


@dataclass(frozen=True, slots=True)
class BlockedActor:
    ref: str  # "Practitioner/12" or "Organization/3"
    name: str  # as shown when blocked (the reference when no name was known)


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    blocked: list[BlockedActor] = field(default_factory=list)
    hidden_documents: frozenset[str] = frozenset()  # DocumentReference ids
    emergency_forbidden: bool = False


def consent_id(patient_id: str) -> str:
    """The id of the patient's own privacy Consent (ids are at most 64 characters)."""
    plain = f"privacy-{patient_id}"
    return (
        plain
        if len(plain) <= 64
        else "privacy-" + hashlib.sha256(patient_id.encode()).hexdigest()[:40]
    )


def read_privacy(fhir: FhirClient, patient_id: str) -> PrivacySettings:
    """What the patient's active privacy Consents deny, merged."""
    _check_id(patient_id, "patient")
    blocked: dict[str, str] = {}
    hidden: set[str] = set()
    emergency = False
    for consent in _privacy_consents(fhir, patient_id):
        settings = _settings_of(consent)
        for actor in settings.blocked:
            blocked.setdefault(actor.ref, actor.name)
        hidden |= settings.hidden_documents
        emergency = emergency or settings.emergency_forbidden
    return PrivacySettings(
        [BlockedActor(ref, name) for ref, name in sorted(blocked.items(), key=lambda i: i[1])],
        frozenset(hidden),
        emergency,
    )


def hide_document(fhir: FhirClient, patient_id: str, document_id: str) -> PrivacySettings:
    """Mask a document of the patient from every professional but its author."""
    _check_id(document_id, "document")
    try:
        document = fhir.read("DocumentReference", document_id)
    except FhirCallError as error:
        if error.status == 404:
            raise PrivacyError("Ce document est introuvable dans votre dossier.") from None
        raise
    subject = (document.get("subject") or {}).get("reference")
    if reference_id(subject, "Patient") != patient_id:
        raise PrivacyError("Ce document n'appartient pas à votre dossier.")
    return _change_own(
        fhir,
        patient_id,
        lambda s: replace(s, hidden_documents=s.hidden_documents | {document_id}),
    )


def show_document(fhir: FhirClient, patient_id: str, document_id: str) -> PrivacySettings:
    """Lift the mask on a document, wherever the patient set it."""
    _check_id(document_id, "document")
    return _change_all(
        fhir,
        patient_id,
        lambda s: replace(s, hidden_documents=s.hidden_documents - {document_id}),
    )


def block_actor(
    fhir: FhirClient, patient_id: str, actor_ref: str, *, name: str | None = None
) -> PrivacySettings:
    """Block a professional or an organisation from the whole record; ``name`` is kept in
    the Consent (Reference.display) to show the patient whom they blocked."""
    if not _ACTOR.fullmatch(actor_ref):
        raise PrivacyError(
            "Seul un professionnel (Practitioner/…) ou un établissement (Organization/…) "
            "peut être bloqué."
        )
    shown = (name or "").strip()[:200] or actor_ref

    def block(settings: PrivacySettings) -> PrivacySettings:
        others = [a for a in settings.blocked if a.ref != actor_ref]
        return replace(settings, blocked=[*others, BlockedActor(actor_ref, shown)])

    return _change_own(fhir, patient_id, block)


def unblock_actor(fhir: FhirClient, patient_id: str, actor_ref: str) -> PrivacySettings:
    """Lift a block, wherever the patient set it."""
    return _change_all(
        fhir,
        patient_id,
        lambda s: replace(s, blocked=[a for a in s.blocked if a.ref != actor_ref]),
    )


def set_emergency_forbidden(fhir: FhirClient, patient_id: str, forbidden: bool) -> PrivacySettings:
    """Refuse (or allow again) break-the-glass access to the record."""
    if forbidden:
        return _change_own(fhir, patient_id, lambda s: replace(s, emergency_forbidden=True))
    return _change_all(fhir, patient_id, lambda s: replace(s, emergency_forbidden=False))


# -- the Consent ------------------------------------------------------------------------------

Change = Callable[[PrivacySettings], PrivacySettings]


def _change_own(fhir: FhirClient, patient_id: str, change: Change) -> PrivacySettings:
    """Apply ``change`` to the patient's own privacy Consent (created the first time)."""
    _check_id(patient_id, "patient")
    for _ in range(_ATTEMPTS):
        current = _own_consent(fhir, patient_id)
        settings = _settings_of(current) if current else PrivacySettings()
        if _write(fhir, patient_id, current, change(settings)):
            return read_privacy(fhir, patient_id)
    raise PrivacyError("Vos réglages ont été modifiés en même temps ailleurs : réessayez.")


def _change_all(fhir: FhirClient, patient_id: str, change: Change) -> PrivacySettings:
    """Apply ``change`` to every active privacy Consent of the patient that it changes."""
    _check_id(patient_id, "patient")
    for _ in range(_ATTEMPTS):
        written = True
        for consent in _privacy_consents(fhir, patient_id):
            settings = _settings_of(consent)
            changed = change(settings)
            if changed != settings:
                written = written and _write(fhir, patient_id, consent, changed)
        if written:
            return read_privacy(fhir, patient_id)
    raise PrivacyError("Vos réglages ont été modifiés en même temps ailleurs : réessayez.")


def _privacy_consents(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    found = fhir.search_all(
        "Consent",
        [("patient", f"Patient/{patient_id}"), ("scope", PRIVACY_SCOPE), ("status", "active")],
    )
    return sorted(found, key=lambda c: c["id"])


def _own_consent(fhir: FhirClient, patient_id: str) -> dict[str, Any] | None:
    try:
        return fhir.read("Consent", consent_id(patient_id))
    except FhirCallError as error:
        if error.status in (404, 410):
            return None
        raise


def _write(
    fhir: FhirClient,
    patient_id: str,
    current: dict[str, Any] | None,
    settings: PrivacySettings,
) -> bool:
    """Write ``settings`` over ``current`` (None: create); False when another change won."""
    resource = _consent(patient_id, settings, current)
    headers = {
        "content-type": "application/fhir+json",
        "accept": "application/fhir+json",
        "prefer": "return=minimal",
    }
    if current is not None:
        headers["if-match"] = f'W/"{current["meta"]["versionId"]}"'
    response = fhir.call(
        "PUT",
        f"Consent/{resource['id']}",
        body=orjson.dumps(resource),
        headers=headers,
    )
    if response.status in (409, 412):
        return False
    if response.status >= 400:
        raise FhirCallError(response.status, orjson.loads(response.body))
    return True


def _consent(
    patient_id: str, settings: PrivacySettings, current: dict[str, Any] | None
) -> dict[str, Any]:
    """The whole Consent for ``settings``: a permit whose nested provisions deny."""
    denials: list[dict[str, Any]] = []
    for actor in sorted(settings.blocked, key=lambda a: a.ref):
        role = {"coding": [{"system": PARTICIPATION, "code": "PRCP"}]}
        reference = {"reference": actor.ref, "display": actor.name}
        denials.append({"type": "deny", "actor": [{"role": role, "reference": reference}]})
    for document_id in sorted(settings.hidden_documents):
        data = {
            "meaning": "instance",
            "reference": {"reference": f"DocumentReference/{document_id}"},
        }
        denials.append({"type": "deny", "data": [data]})
    if settings.emergency_forbidden:
        purposes = [
            {"system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment"},
            {"system": ACT_REASON, "code": "BTG", "display": "break the glass"},
        ]
        denials.append({"type": "deny", "purpose": purposes})
    provision: dict[str, Any] = {"type": "permit"}
    if denials:
        provision["provision"] = denials
    return {
        "resourceType": "Consent",
        "id": current["id"] if current else consent_id(patient_id),
        "status": "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE_SYSTEM, "code": PRIVACY_SCOPE}]},
        "category": [PRIVACY_CATEGORY],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": datetime.now(UTC).isoformat(timespec="seconds"),
        "policyRule": {"text": "Choix de confidentialité du patient dans Hygie"},
        "provision": provision,
    }


def _settings_of(consent: dict[str, Any]) -> PrivacySettings:
    """What one Consent denies, with the names kept in its actor references."""
    blocked: dict[str, str] = {}
    hidden: set[str] = set()
    emergency = False
    pending = [consent.get("provision") or {}]
    while pending:
        provision = pending.pop()
        pending.extend(provision.get("provision") or ())
        if provision.get("type") != "deny":
            continue
        for actor in provision.get("actor") or ():
            reference = actor.get("reference") or {}
            ref = str(reference.get("reference", ""))
            if _ACTOR.fullmatch(ref):
                blocked[ref] = str(reference.get("display") or ref)
        for data in provision.get("data") or ():
            ref = str((data.get("reference") or {}).get("reference", ""))
            if ref.startswith("DocumentReference/"):
                hidden.add(ref.removeprefix("DocumentReference/"))
        codes = {coding.get("code") for coding in provision.get("purpose") or ()}
        emergency = emergency or bool(codes & {"ETREAT", "BTG"})
    return PrivacySettings(
        [BlockedActor(ref, name) for ref, name in blocked.items()], frozenset(hidden), emergency
    )


def _check_id(value: str, what: str) -> None:
    if not _ID.fullmatch(value):
        raise PrivacyError(f"Identifiant de {what} invalide : {value!r}.")
