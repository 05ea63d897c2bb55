"""Every Cedar policy, permitted and denied, through CedarDecisionPoint.decide."""

from __future__ import annotations

from dataclasses import replace

import cedarpy
import pytest

from hygie.security.context import Aal
from hygie.security.policy import FHIR_ACTIONS, CedarDecisionPoint, Decision, ResourceFacts
from hygie.security.policy.pdp import cedar_context
from tests.security.policy.helpers import (
    BACKEND,
    IT_ADMIN,
    NOW,
    OFFICER,
    TAG,
    context,
    doctor,
    patient,
)

OBS_P1 = ResourceFacts("Observation", "o1", "Patient/p1")
OBS_P2 = ResourceFacts("Observation", "o2", "Patient/p2")
CARED = replace(OBS_P2, care_relationship=True)
DOC = ResourceFacts("DocumentReference", "doc1", "Patient/p1", care_relationship=True)
ROUTE = ResourceFacts("AuditLog")
OWN_ROUTE = ResourceFacts("AccessHistory", patient_ref="Patient/p1")


@pytest.fixture(scope="module")
def pdp() -> CedarDecisionPoint:
    return CedarDecisionPoint.load(clock=lambda: NOW)


def allowed(decision: Decision, policy: str) -> None:
    assert decision.allowed, decision
    assert decision.policy_id == policy


def denied(decision: Decision, policy: str = "default-deny") -> None:
    assert not decision.allowed, decision
    assert policy in decision.policy_ids or decision.policy_id == policy


# Patients


def test_patient_reads_own_record_and_nobody_elses(pdp: CedarDecisionPoint) -> None:
    allowed(pdp.decide(patient(), "fhir.read", OBS_P1), "patient-own-record")
    allowed(pdp.decide(patient(), "fhir.create", OBS_P1), "patient-own-record")
    denied(pdp.decide(patient(), "fhir.read", OBS_P2), "patient-own-compartment-only")
    # a search not confined to their compartment is refused before it runs
    denied(
        pdp.decide(patient(), "fhir.search", ResourceFacts("Observation")),
        "patient-own-compartment-only",
    )


def test_patient_scopes_limit_the_interactions(pdp: CedarDecisionPoint) -> None:
    read_only = context(
        patient().principal, scopes="patient/Observation.rs", launch_patient="Patient/p1"
    )
    allowed(pdp.decide(read_only, "fhir.search", OBS_P1), "patient-own-record")
    denied(pdp.decide(read_only, "fhir.update", OBS_P1))
    denied(pdp.decide(read_only, "fhir.read", replace(OBS_P1, resource_type="Condition")))
    # patient/ scopes reach the launch patient only
    other_launch = context(patient().principal, scopes="patient/*.rs", launch_patient="Patient/p2")
    denied(pdp.decide(other_launch, "fhir.read", OBS_P1))
    no_scope = context(patient().principal)
    denied(pdp.decide(no_scope, "fhir.read", OBS_P1))


def test_patient_sees_own_masked_document(pdp: CedarDecisionPoint) -> None:
    allowed(pdp.decide(patient(), "fhir.read", replace(DOC, masked=True)), "patient-own-record")


def test_patient_other_actions_on_own_compartment(pdp: CedarDecisionPoint) -> None:
    allowed(pdp.decide(patient(), "audit.read-own", OWN_ROUTE), "patient-own-access-history")
    allowed(pdp.decide(patient(), "consent.write", OWN_ROUTE), "patient-own-consent")
    allowed(pdp.decide(patient(), "location.read", OWN_ROUTE), "patient-own-location")
    other = ResourceFacts("AccessHistory", patient_ref="Patient/p2")
    for action in ("audit.read-own", "consent.write", "location.read"):
        denied(pdp.decide(patient(), action, other), "patient-own-compartment-only")
    denied(pdp.decide(patient(), "audit.read", ROUTE))
    denied(pdp.decide(patient(), "admin.users", ROUTE))


# Authentication strength, freshness, zones


def test_health_data_needs_aal2_for_people(pdp: CedarDecisionPoint) -> None:
    denied(
        pdp.decide(patient(aal=Aal.ONE), "fhir.read", OBS_P1), "people-need-aal2-for-health-data"
    )
    denied(pdp.decide(doctor(aal=Aal.ONE), "fhir.read", CARED), "people-need-aal2-for-health-data")
    allowed(pdp.decide(doctor(), "fhir.read", CARED), "practitioner-care-relationship")
    # a page without health data needs one factor only, even from the internet
    allowed(pdp.decide(doctor(aal=Aal.ONE, zone="internet"), "web.page", ROUTE), "signed-in-pages")
    denied(pdp.decide(doctor(aal=Aal.NONE), "web.page", ROUTE))
    denied(pdp.decide(context(BACKEND), "web.page", ROUTE))


def test_internet_needs_aal2_for_admin_actions_too(pdp: CedarDecisionPoint) -> None:
    allowed(
        pdp.decide(context(OFFICER, aal=Aal.ONE), "audit.read", ROUTE),
        "security-officer-reads-audit",
    )
    denied(
        pdp.decide(context(OFFICER, aal=Aal.ONE, zone="internet"), "audit.read", ROUTE),
        "internet-needs-aal2",
    )


def test_administration_only_from_internal_or_vpn(pdp: CedarDecisionPoint) -> None:
    for zone in ("internal", "vpn"):
        allowed(
            pdp.decide(context(IT_ADMIN, zone=zone), "admin.users", ROUTE),
            "admin-manages-accounts-and-clients",
        )
    denied(
        pdp.decide(context(IT_ADMIN, zone="internet"), "admin.clients", ROUTE),
        "administration-from-internal-or-vpn",
    )
    denied(
        pdp.decide(context(OFFICER, zone="internet"), "audit.read", ROUTE),
        "administration-from-internal-or-vpn",
    )


def test_sensitive_actions_need_fresh_authentication(pdp: CedarDecisionPoint) -> None:
    allowed(
        pdp.decide(context(IT_ADMIN, auth_age=300), "admin.clients", ROUTE),
        "admin-manages-accounts-and-clients",
    )
    denied(
        pdp.decide(context(IT_ADMIN, auth_age=301), "admin.clients", ROUTE),
        "sensitive-needs-fresh-authentication",
    )
    facts = ResourceFacts("BreakGlass", patient_ref="Patient/p2")
    allowed(pdp.decide(doctor(), "break-glass.open", facts), "practitioner-opens-break-glass")
    denied(
        pdp.decide(doctor(auth_age=600), "break-glass.open", facts),
        "sensitive-needs-fresh-authentication",
    )


# Professionals


def test_practitioner_needs_a_care_relationship(pdp: CedarDecisionPoint) -> None:
    allowed(pdp.decide(doctor(), "fhir.read", CARED), "practitioner-care-relationship")
    allowed(pdp.decide(doctor(), "fhir.update", CARED), "practitioner-care-relationship")
    denied(pdp.decide(doctor(), "fhir.read", OBS_P2))
    # a search across patients runs with the care-relationship filter in its SQL
    allowed(
        pdp.decide(doctor(), "fhir.search", ResourceFacts("Observation")),
        "practitioner-care-relationship",
    )
    denied(pdp.decide(doctor(scopes="user/Patient.rs"), "fhir.read", CARED))
    # with an EHR-launch patient/ scope, only the launch patient
    launched = doctor(scopes="patient/*.rs", launch_patient="Patient/p2")
    allowed(pdp.decide(launched, "fhir.read", CARED), "practitioner-care-relationship")
    denied(pdp.decide(launched, "fhir.read", replace(DOC, patient_ref="Patient/p3")))


def test_break_glass_reads_are_permitted_and_flagged(pdp: CedarDecisionPoint) -> None:
    grant = replace(OBS_P2, break_glass_grant=True)
    for action in ("fhir.read", "fhir.search", "fhir.history"):
        decision = pdp.decide(doctor(), action, grant)
        allowed(decision, "practitioner-break-glass")
        assert pdp.is_break_glass(decision)
    denied(pdp.decide(doctor(), "fhir.update", grant))
    denied(pdp.decide(doctor(), "fhir.read", replace(grant, emergency_forbidden=True)))
    cared = pdp.decide(doctor(), "fhir.read", replace(CARED, break_glass_grant=True))
    allowed(cared, "practitioner-care-relationship")
    assert not pdp.is_break_glass(cared)


def test_emergency_forbidden_refuses_break_glass_opening(pdp: CedarDecisionPoint) -> None:
    facts = ResourceFacts("BreakGlass", patient_ref="Patient/p2", emergency_forbidden=True)
    denied(pdp.decide(doctor(), "break-glass.open", facts), "emergency-access-refused")
    denied(pdp.decide(patient(), "break-glass.open", OWN_ROUTE))


def test_blocked_professional_is_refused_whatever_else(pdp: CedarDecisionPoint) -> None:
    blocked = replace(CARED, blocked=True)
    denied(pdp.decide(doctor(), "fhir.read", blocked), "consent-blocks-caller")
    denied(
        pdp.decide(doctor(), "fhir.read", replace(blocked, break_glass_grant=True)),
        "consent-blocks-caller",
    )
    denied(
        pdp.decide(context(BACKEND, scopes="system/*.rs"), "fhir.read", blocked),
        "consent-blocks-caller",
    )


def test_masked_document_only_for_its_author(pdp: CedarDecisionPoint) -> None:
    masked = replace(DOC, masked=True)
    denied(pdp.decide(doctor(), "fhir.read", masked), "masked-document")
    by_doctor = replace(masked, author_refs=frozenset({"Practitioner/d1"}))
    allowed(pdp.decide(doctor(), "fhir.read", by_doctor), "practitioner-care-relationship")
    by_org = replace(masked, author_refs=frozenset({"Organization/chu"}))
    allowed(pdp.decide(doctor(), "fhir.read", by_org), "practitioner-care-relationship")
    by_other = replace(masked, author_refs=frozenset({"Practitioner/d9"}))
    denied(pdp.decide(doctor(), "fhir.read", by_other), "masked-document")


def test_practitioner_location(pdp: CedarDecisionPoint) -> None:
    allowed(pdp.decide(doctor(), "location.read", ResourceFacts("Plan")), "practitioner-location")
    tracked = ResourceFacts("Track", patient_ref="Patient/p2")
    denied(pdp.decide(doctor(), "location.read", tracked))
    allowed(
        pdp.decide(doctor(), "location.read", replace(tracked, care_relationship=True)),
        "practitioner-location",
    )


# Administrators, backend services, devices


def test_admins_get_no_health_data(pdp: CedarDecisionPoint) -> None:
    everything = context(IT_ADMIN, scopes="user/*.cruds system/*.cruds")
    for action in sorted(FHIR_ACTIONS):
        denied(pdp.decide(everything, action, CARED), "admin-no-health-data")
    denied(pdp.decide(everything, "location.read", ResourceFacts("Plan")), "admin-no-health-data")


def test_admin_roles(pdp: CedarDecisionPoint) -> None:
    allowed(
        pdp.decide(context(OFFICER), "admin.users", ROUTE), "admin-manages-accounts-and-clients"
    )
    denied(pdp.decide(context(IT_ADMIN), "audit.read", ROUTE))
    no_role = context(replace(IT_ADMIN, roles=frozenset()))
    denied(pdp.decide(no_role, "admin.users", ROUTE))
    denied(pdp.decide(doctor(), "admin.users", ROUTE))


def test_backend_client_gets_what_its_system_scopes_allow(pdp: CedarDecisionPoint) -> None:
    client = context(BACKEND, scopes="system/Observation.rs", aal=Aal.ONE, zone="internet")
    allowed(pdp.decide(client, "fhir.read", OBS_P2), "backend-client-system-scopes")
    denied(pdp.decide(client, "fhir.create", OBS_P2))
    denied(pdp.decide(client, "fhir.read", replace(OBS_P2, resource_type="Condition")))
    denied(pdp.decide(context(BACKEND, scopes="user/*.cruds"), "fhir.read", OBS_P2))
    denied(pdp.decide(client, "location.read", ResourceFacts("Plan")))


def test_device_writes_only_its_own_telemetry(pdp: CedarDecisionPoint) -> None:
    own = ResourceFacts("Position", author_refs=frozenset({"Device/tag-7"}))
    allowed(
        pdp.decide(context(TAG, posture="compliant"), "location.write", own), "device-own-location"
    )
    allowed(
        pdp.decide(context(TAG, posture="unknown"), "location.write", own), "device-own-location"
    )
    denied(
        pdp.decide(context(TAG, posture="quarantined"), "location.write", own), "quarantined-device"
    )
    other = ResourceFacts("Position", author_refs=frozenset({"Device/tag-8"}))
    denied(pdp.decide(context(TAG), "location.write", other))
    denied(pdp.decide(context(TAG), "location.read", ResourceFacts("Plan")))
    obs = ResourceFacts(
        "Observation", patient_ref="Patient/p1", author_refs=frozenset({"Device/tag-7"})
    )
    device = context(TAG, scopes="system/Observation.c", posture="compliant")
    allowed(pdp.decide(device, "fhir.create", obs), "device-own-telemetry")
    denied(pdp.decide(device, "fhir.create", replace(obs, resource_type="Condition")))
    denied(pdp.decide(device, "fhir.read", obs))
    denied(pdp.decide(context(TAG, posture="compliant"), "fhir.create", obs))


def test_unknown_action_and_system_principal_are_denied(pdp: CedarDecisionPoint) -> None:
    decision = pdp.decide(doctor(), "fhir.patch", CARED)
    assert decision == Decision(False, (), "unknown action")
    denied(pdp.decide(doctor(), "health-data", CARED))  # a group is not an action
    system = context(replace(BACKEND, kind="system"), scopes="system/*.cruds")
    denied(pdp.decide(system, "fhir.read", OBS_P1))


def test_every_request_matches_the_schema(pdp: CedarDecisionPoint) -> None:
    """Run without the schema for speed, the requests are checked against it here."""
    schema = pdp._loaded.schema
    callers = [patient(), doctor(), context(OFFICER), context(BACKEND), context(TAG, posture="x")]
    for ctx in callers:
        for action, letter in pdp.actions.items():
            facts = CARED if letter else OWN_ROUTE
            request, _ = pdp.cedar_request(
                ctx, action, facts, cedar_context(ctx, facts, letter, now=NOW)
            )
            principal = ctx.principal
            attrs: dict[str, object] = {"roles": sorted(principal.roles)}
            if principal.organization_ref:
                attrs["organization"] = principal.organization_ref
            resource_attrs = (
                {"type": facts.resource_type, "patient": facts.patient_ref}
                if letter
                else {"object": facts.resource_type, "patient": facts.patient_ref}
            )
            entities = [
                {"uid": request["principal"], "attrs": attrs, "parents": []},
                {"uid": request["resource"], "attrs": resource_attrs, "parents": []},
            ]
            result = cedarpy.is_authorized(request, pdp._loaded.text, entities, schema=schema)
            assert result.diagnostics.errors == [], (action, result.diagnostics.errors)
            assert result.allowed == pdp.decide(ctx, action, facts).allowed


def test_decisions_follow_the_clock(pdp: CedarDecisionPoint) -> None:
    """The memo of decisions keys on auth_age: time passing changes the answer."""
    now = [NOW]
    moving = CedarDecisionPoint.load(clock=lambda: now[0])
    facts = ResourceFacts("BreakGlass", patient_ref="Patient/p2")
    assert moving.decide(doctor(), "break-glass.open", facts).allowed
    now[0] += 300
    assert not moving.decide(doctor(), "break-glass.open", facts).allowed
