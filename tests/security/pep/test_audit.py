"""Every decision is in the audit log, with the deciding policy, before the response leaves."""

from __future__ import annotations

from hygie.security.audit import AuditLog, Outcome
from tests.conftest import backends
from tests.security.pep.world import DR4, P1, World


@backends
def test_reads_searches_and_denials_are_audited_with_their_policy(
    world: World, audit_log: AuditLog
) -> None:
    start = audit_log.tree_head().tree_size
    world.get(P1, "Observation/obs-p1")
    world.get(DR4, "Observation/obs-p1")
    world.ids(P1, "Observation")
    new = [audit_log.entry(i) for i in range(start, audit_log.tree_head().tree_size)]
    read, denied, search = new
    assert (read.action, read.outcome, read.resource, read.patient) == (
        "fhir.read",
        Outcome.PERMIT,
        "Observation/obs-p1",
        "Patient/p1",
    )
    assert read.actor.id == "Patient/p1" and read.policy_id
    assert (denied.outcome, denied.actor.id, denied.patient) == (
        Outcome.DENY,
        "Practitioner/dr4",
        "Patient/p1",
    )
    assert denied.policy_id != "default-deny"  # the consent forbid decided
    assert (search.action, search.outcome, search.patient) == (
        "fhir.search",
        Outcome.PERMIT,
        "Patient/p1",
    )
    # The patient's access history lists the blocked professional's attempt.
    history = [e for _i, e in audit_log.entries_for_patient("Patient/p1")]
    assert any(e.actor.id == "Practitioner/dr4" and e.outcome is Outcome.DENY for e in history)


@backends
def test_a_type_level_denial_is_audited(world: World, audit_log: AuditLog) -> None:
    start = audit_log.tree_head().tree_size
    assert world.call(P1, "POST", "Practitioner", {"resourceType": "Practitioner"}).status == 403
    (entry,) = [audit_log.entry(i) for i in range(start, audit_log.tree_head().tree_size)]
    assert (entry.action, entry.outcome) == ("fhir.create", Outcome.DENY)
