"""A device's posture in its decisions: quarantined does nothing, unknown reports its
position but records no health data, compliant records its own telemetry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hygie.security.policy import CedarDecisionPoint, Decision, ResourceFacts
from tests.security.policy.helpers import NOW, TAG, context

TELEMETRY = "system/Observation.c"
OWN_POSITION = ResourceFacts("Position", author_refs=frozenset({"Device/tag-7"}))
# Type level: the body is not read yet. Instance level: Alice's heart rate from this device.
OBSERVATIONS = ResourceFacts("Observation")
OWN_OBSERVATION = ResourceFacts(
    "Observation", patient_ref="Patient/p1", author_refs=frozenset({"Device/tag-7"})
)


@pytest.fixture(scope="module")
def pdp() -> CedarDecisionPoint:
    return CedarDecisionPoint.load(clock=lambda: NOW)


def decide(pdp: CedarDecisionPoint, posture: str, action: str, facts: ResourceFacts) -> Decision:
    return pdp.decide(context(TAG, scopes=TELEMETRY, posture=posture), action, facts)


def test_only_a_compliant_device_records_its_own_telemetry(pdp: CedarDecisionPoint) -> None:
    for facts in (OBSERVATIONS, OWN_OBSERVATION):
        permit = decide(pdp, "compliant", "fhir.create", facts)
        assert permit.allowed and permit.policy_id == "device-own-telemetry"
        assert not decide(pdp, "unknown", "fhir.create", facts).allowed
        assert not decide(pdp, "", "fhir.create", facts).allowed
    other_device = replace(OWN_OBSERVATION, author_refs=frozenset({"Device/tag-8"}))
    assert not decide(pdp, "compliant", "fhir.create", other_device).allowed


def test_unknown_and_compliant_devices_report_their_own_position(pdp: CedarDecisionPoint) -> None:
    for posture in ("compliant", "unknown"):
        permit = decide(pdp, posture, "location.write", OWN_POSITION)
        assert permit.allowed and permit.policy_id == "device-own-location"
    assert not decide(pdp, "", "location.write", OWN_POSITION).allowed
    elsewhere = replace(OWN_POSITION, author_refs=frozenset({"Device/tag-8"}))
    assert not decide(pdp, "compliant", "location.write", elsewhere).allowed


def test_a_quarantined_device_may_do_nothing(pdp: CedarDecisionPoint) -> None:
    for action, facts in (
        ("location.write", OWN_POSITION),
        ("fhir.create", OWN_OBSERVATION),
        ("location.map", ResourceFacts("Map")),
    ):
        refused = decide(pdp, "quarantined", action, facts)
        assert not refused.allowed and refused.policy_id == "quarantined-device"
    assert decide(pdp, "unknown", "location.map", ResourceFacts("Map")).allowed
