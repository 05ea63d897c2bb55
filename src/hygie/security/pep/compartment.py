"""The Patient compartment (FHIR R4 CompartmentDefinition "patient"): whose record a resource
belongs to.

:data:`PATIENT_COMPARTMENT` lists, per resource type, the search parameters that put a
resource in a patient's compartment. The same parameters serve twice: in SQL, through the
reference index (``fhir_idx_reference``), to narrow searches; and on a resource body,
through a search-index extractor restricted to them, to find the owners of any version
(history, vread and writes included) without a query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from hygie.fhir.indexing import Indexer
from hygie.fhir.model import StoredResource
from hygie.fhir.searchparams import SearchParam, SearchParamRegistry

# The first parameter names the resource's primary patient.
PATIENT_COMPARTMENT: dict[str, tuple[str, ...]] = {
    "Account": ("subject",),
    "AdverseEvent": ("subject",),
    "AllergyIntolerance": ("patient", "recorder", "asserter"),
    "Appointment": ("actor",),
    "AppointmentResponse": ("actor",),
    "AuditEvent": ("patient",),
    "Basic": ("patient", "author"),
    "BodyStructure": ("patient",),
    "CarePlan": ("patient", "performer"),
    "CareTeam": ("patient", "participant"),
    "ChargeItem": ("subject",),
    "Claim": ("patient", "payee"),
    "ClaimResponse": ("patient",),
    "ClinicalImpression": ("subject",),
    "Communication": ("subject", "sender", "recipient"),
    "CommunicationRequest": ("subject", "sender", "recipient", "requester"),
    "Composition": ("subject", "author", "attester"),
    "Condition": ("patient", "asserter"),
    "Consent": ("patient",),
    "Coverage": ("beneficiary", "policy-holder", "subscriber", "payor"),
    "CoverageEligibilityRequest": ("patient",),
    "CoverageEligibilityResponse": ("patient",),
    "DetectedIssue": ("patient",),
    "DeviceRequest": ("subject", "performer"),
    "DeviceUseStatement": ("subject",),
    "DiagnosticReport": ("subject",),
    "DocumentManifest": ("subject", "author", "recipient"),
    "DocumentReference": ("subject", "author"),
    "Encounter": ("patient",),
    "EnrollmentRequest": ("subject",),
    "EpisodeOfCare": ("patient",),
    "ExplanationOfBenefit": ("patient", "payee"),
    "FamilyMemberHistory": ("patient",),
    "Flag": ("patient",),
    "Goal": ("patient",),
    "Group": ("member",),
    "ImagingStudy": ("patient",),
    "Immunization": ("patient",),
    "ImmunizationEvaluation": ("patient",),
    "ImmunizationRecommendation": ("patient",),
    "Invoice": ("subject", "patient", "recipient"),
    "List": ("subject", "source"),
    "MeasureReport": ("patient",),
    "Media": ("subject",),
    "MedicationAdministration": ("patient", "performer", "subject"),
    "MedicationDispense": ("subject", "patient", "receiver"),
    "MedicationRequest": ("subject",),
    "MedicationStatement": ("subject",),
    "MolecularSequence": ("patient",),
    "NutritionOrder": ("patient",),
    "Observation": ("subject", "performer"),
    "Patient": ("link",),
    "Person": ("patient",),
    "Procedure": ("patient", "performer"),
    "Provenance": ("patient",),
    "QuestionnaireResponse": ("subject", "author"),
    "RelatedPerson": ("patient",),
    "RequestGroup": ("subject", "participant"),
    "ResearchSubject": ("individual",),
    "RiskAssessment": ("subject",),
    "Schedule": ("actor",),
    "ServiceRequest": ("subject", "performer"),
    "Specimen": ("subject",),
    "SupplyDelivery": ("patient",),
    "SupplyRequest": ("subject",),
    "VisionPrescription": ("patient",),
}
# Parameters naming the device a resource comes from: that Device counts as its author
# (they put it in the Device's compartment), so a device is decided on its own telemetry.
DEVICE_SOURCE: dict[str, tuple[str, ...]] = {"Observation": ("device",)}
# A Patient's care relationships: its managing organisation and general practitioners.
CARE_PARAMS = ("organization", "general-practitioner")


@dataclass(frozen=True, slots=True)
class Ownership:
    """The patients whose compartment holds a resource (primary first), and its authors."""

    owners: tuple[str, ...]
    authors: frozenset[str]
    context: str | None = None  # a Binary's securityContext when it is not a Patient


# Ownerships kept, by stored version and the hash of its content (a version seen inside a
# transaction that then rolled back may be written again with other content).
OWNERSHIP_CACHE_SIZE = 32768  # a full cache is emptied; an entry is ~300 bytes


class CompartmentReader:
    """Finds a resource body's owners with the store's own FHIRPath extraction."""

    def __init__(self, registry: SearchParamRegistry) -> None:
        self._known: dict[tuple[str, str, int, int], Ownership] = {}
        by_type: dict[str, dict[str, SearchParam]] = {}
        for rtype, codes in PATIENT_COMPARTMENT.items():
            params = {c: p for c in codes if (p := registry.get(rtype, c)) is not None}
            by_type[rtype] = params
        self.params = {rtype: tuple(params) for rtype, params in by_type.items()}
        for rtype, codes in DEVICE_SOURCE.items():
            by_type[rtype] |= {c: p for c in codes if (p := registry.get(rtype, c)) is not None}
        self._indexer = Indexer(SearchParamRegistry(by_type))

    def stored_ownership(self, stored: StoredResource) -> Ownership:
        """The ownership of a stored version (not a deletion), extracted once: every read and
        every search page decides on it (~20 us of parsing and extraction each)."""
        if stored.content is None:
            raise ValueError(f"{stored.reference} version {stored.version} is a deletion")
        key = (stored.resource_type, stored.id, stored.version, hash(stored.content))
        known = self._known.get(key)
        if known is None:
            known = self.ownership(orjson.loads(stored.content))
            if len(self._known) >= OWNERSHIP_CACHE_SIZE:
                self._known.clear()
            self._known[key] = known
        return known

    def ownership(self, body: dict[str, Any]) -> Ownership:
        rtype = body.get("resourceType")
        if rtype == "Binary":
            return _binary_ownership(body)
        if rtype not in self.params:
            return Ownership((), frozenset())
        owners: list[str] = []
        if rtype == "Patient" and isinstance(body.get("id"), str):
            owners.append(f"Patient/{body['id']}")
        authors: set[str] = set()
        rows = self._indexer.index(body).references
        for param in self.params[rtype]:  # in compartment order: the primary patient first
            for code, target_type, target_id, _url in rows:
                if code != param or target_type is None or target_id is None:
                    continue
                ref = f"{target_type}/{target_id}"
                if target_type == "Patient" and ref not in owners:
                    owners.append(ref)
                if code == "author":
                    authors.add(ref)
        sources = DEVICE_SOURCE.get(rtype, ())
        for code, target_type, target_id, _url in rows:
            if code in sources and target_type == "Device" and target_id is not None:
                authors.add(f"Device/{target_id}")
        return Ownership(tuple(owners), frozenset(authors))


def _binary_ownership(body: dict[str, Any]) -> Ownership:
    """A Binary belongs to the patient its securityContext names, directly or through the
    resource it names (a DocumentReference): that one is resolved by the caller."""
    context = body.get("securityContext")
    ref = context.get("reference") if isinstance(context, dict) else None
    if not isinstance(ref, str):
        return Ownership((), frozenset())
    if ref.startswith("Patient/"):
        return Ownership((ref,), frozenset())
    return Ownership((), frozenset(), context=ref)
