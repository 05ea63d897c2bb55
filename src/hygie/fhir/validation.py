"""Validation of every resource written to the store: FHIR R4 structure, datatypes, JSON rules.

``validate(resource)`` judges a parsed JSON value and returns the very same dict, or raises
``FhirError(400, issues)`` with one Issue per problem and a FHIRPath-like expression for
each. It never reserializes: the store keeps the client's JSON.

How: the structure comes from ``fhir.resources`` (its R4B models: element names,
datatypes, cardinality, required elements, choice groups), read once per type into plain
tables (validation_schema.py), then one pass over the JSON checks it (validation_walk.py)
with strict JSON types and the R4 primitive formats (validation_primitives.py). Running the
pydantic models directly was measured and rejected (bench/bench_validation.py): they
coerce ``"true"`` and ``1`` to booleans and ``"5"`` to numbers (json.html forbids it),
accept ids longer than 64 characters and URIs with spaces, skip the required and choice
checks of any element that has another error (so problems go unreported), crash on an
unknown contained resourceType, and cost 2 to 5 times more.

FHIR JSON rules the models do not hold (json.html): null, "", {} and [] are invalid
anywhere (null only as a placeholder in a primitive array lined up with its ``_`` array);
JSON nesting deeper than MAX_DEPTH (64) is refused. Contained resources and
Bundle.entry.resource are judged like the root.

R4 (4.0.1) vs R4B (4.3.0): the types below are R4's resource list. R4B dropped some of
them (EffectEvidenceSynthesis, RiskEvidenceSynthesis, the MedicinalProduct* family,
SubstanceSpecification) and rewrote Evidence and EvidenceVariable
(https://hl7.org/fhir/R4B/diff.html), so there is no model to judge those with and they
are not accepted. R4B-only types (Citation, SubscriptionTopic...) are not R4 and are not
accepted either. In the R4 types R4B kept, what R4B added is removed from the tables
(validation_schema.py: CodeableReference and RatioRange choices, subjectCanonical).

Business rules beyond the structure (the INS of a Patient ...) are the composition root's:
``rules`` (validation_rules.py) runs them once the structure is valid, refusing with 422.
"""

from __future__ import annotations

from typing import Any

from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.validation_primitives import describe
from hygie.fhir.validation_rules import ResourceRules
from hygie.fhir.validation_schema import resource_model, table_of
from hygie.fhir.validation_walk import MAX_DEPTH, Report, TooDeep, Walker

# https://hl7.org/fhir/R4/resourcelist.html
R4_RESOURCE_TYPES = frozenset(
    """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric
    DeviceRequest DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference
    EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest EnrollmentResponse
    EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario
    ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse
    HealthcareService ImagingStudy Immunization ImmunizationEvaluation
    ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice Library Linkage List
    Location Measure MeasureReport Media Medication MedicationAdministration
    MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement
    MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect MessageDefinition MessageHeader MolecularSequence
    NamingSystem NutritionOrder Observation ObservationDefinition OperationDefinition
    OperationOutcome Organization OrganizationAffiliation Parameters Patient PaymentNotice
    PaymentReconciliation Person PlanDefinition Practitioner PractitionerRole Procedure
    Provenance Questionnaire QuestionnaireResponse RelatedPerson RequestGroup
    ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult
    VisionPrescription
    """.split()  # noqa: SIM905 (a word list reads better than 150 quoted strings)
)

# R4 types R4B removed or restructured: no model judges their R4 shape.
NOT_IN_R4B = frozenset(
    """
    EffectEvidenceSynthesis RiskEvidenceSynthesis Evidence EvidenceVariable
    MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect SubstanceSpecification SubstanceNucleicAcid
    SubstancePolymer SubstanceProtein SubstanceReferenceInformation SubstanceSourceMaterial
    """.split()  # noqa: SIM905 (a word list reads better than 150 quoted strings)
)

KNOWN_RESOURCE_TYPES: frozenset[str] = R4_RESOURCE_TYPES - NOT_IN_R4B


def validate(
    resource: object, *, expected_type: str | None = None, rules: ResourceRules | None = None
) -> dict[str, Any]:
    """Judge a parsed JSON value as a FHIR R4 resource; return it unchanged (the same dict).

    Structural problems are a 400; then ``rules`` may refuse it with a 422."""
    if not isinstance(resource, dict):
        raise _invalid(f"a FHIR resource is a JSON object, got {describe(resource)}")
    resource_type = resource.get("resourceType")
    if resource_type is None:
        raise _invalid("the JSON object has no resourceType", "resourceType", code="required")
    if not isinstance(resource_type, str) or resource_type not in KNOWN_RESOURCE_TYPES:
        raise _invalid(
            f"resourceType {resource_type!r} is not a FHIR R4 resource type this server stores",
            "resourceType",
            code="not-supported",
        )
    if expected_type is not None and resource_type != expected_type:
        raise _invalid(
            f"the body is a {resource_type} but the request is for {expected_type}",
            "resourceType",
        )
    report = Report()
    try:
        Walker(report, KNOWN_RESOURCE_TYPES).walk_object(
            resource, table_of(resource_model(resource_type)), resource_type, 1
        )
    except TooDeep as too_deep:
        raise _invalid(
            f"{too_deep.path}: JSON nested deeper than {MAX_DEPTH} levels",
            too_deep.path,
            code="structure",
        ) from None
    if report.issues:
        raise FhirError(400, report.outcome())
    if rules is not None:
        rules.check(resource)
    return resource


def _invalid(message: str, *expression: str, code: str = "invalid") -> FhirError:
    return FhirError(400, Issue(code, message, expression))
