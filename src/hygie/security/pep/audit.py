"""Audit entries of the enforcement point's decisions, permits and denials alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from hygie.fhir.access import SystemAudit
from hygie.security.audit.entry import Actor, ActorKind, AuditEntry, Outcome
from hygie.security.context import Principal, PrincipalKind, RequestContext
from hygie.security.policy.model import Decision

_ACTOR_KINDS = {
    PrincipalKind.PATIENT: ActorKind.PATIENT,
    PrincipalKind.PRACTITIONER: ActorKind.PRACTITIONER,
    PrincipalKind.ADMIN: ActorKind.USER,
    PrincipalKind.CLIENT: ActorKind.APP,
    PrincipalKind.DEVICE: ActorKind.DEVICE,
    PrincipalKind.SYSTEM: ActorKind.SYSTEM,
}
SYSTEM_ACTOR = Actor(ActorKind.SYSTEM, "hygie", "Hygie")
SYSTEM_POLICY = "system-access"


class AuditSubmitter(Protocol):
    """What the guard needs of :class:`hygie.security.audit.sink.AuditSink`."""

    def submit(self, entries: Sequence[AuditEntry]) -> list[int]: ...


@lru_cache(maxsize=4096)
def actor_of(principal: Principal) -> Actor:
    """The audit actor of a principal; memoised (both are frozen values), since each
    decision's entry names it and checking an Actor's fields costs more than a lookup."""
    return Actor(
        _ACTOR_KINDS[principal.kind], principal.fhir_ref or principal.id, principal.display
    )


def decision_entry(
    ctx: RequestContext,
    action: str,
    decision: Decision,
    *,
    now: float,
    resource: str | None = None,
    patient: str | None = None,
    break_glass: bool = False,
    note: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        time=datetime.fromtimestamp(now, UTC),
        actor=actor_of(ctx.principal),
        action=action,
        outcome=Outcome.PERMIT if decision.allowed else Outcome.DENY,
        policy_id=decision.policy_id,
        resource=resource,
        patient=patient,
        client_id=ctx.client_id,
        network_zone=ctx.network_zone,
        purpose_of_use=ctx.purpose_of_use,
        break_glass=break_glass or ctx.break_glass,
        reason=note if decision.allowed else decision.reason,
    )


def system_audit(sink: AuditSubmitter, *, clock: Callable[[], float] = time.time) -> SystemAudit:
    """The ``audit`` callback of :class:`hygie.fhir.access.SystemAccess`: one entry per
    (action, resource type) the internal use touched, with its reason."""

    def record(reason: str, touched: Sequence[tuple[str, str]]) -> None:
        moment = datetime.fromtimestamp(clock(), UTC)
        sink.submit(
            [
                AuditEntry(
                    time=moment,
                    actor=SYSTEM_ACTOR,
                    action=action,
                    outcome=Outcome.PERMIT,
                    policy_id=SYSTEM_POLICY,
                    reason=f"{reason} ({resource_type})",
                )
                for action, resource_type in touched
            ]
        )

    return record
