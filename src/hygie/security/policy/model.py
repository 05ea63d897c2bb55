"""What the policy decision point (PDP) is asked and what it answers.

The enforcement point (hygie.security.pep) gathers the facts; the PDP (Cedar policies under
hygie/security/policy/cedar) decides. Nothing here talks to a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hygie.security.context import RequestContext

# FHIR interactions, as asked of the PDP. Non-FHIR actions use their audit action name
# ("location.read", "audit.read", "admin.users", "consent.write", "break-glass.open" ...).
FHIR_ACTIONS = frozenset(
    {"fhir.read", "fhir.search", "fhir.history", "fhir.create", "fhir.update", "fhir.delete"}
)


@dataclass(frozen=True, slots=True)
class ResourceFacts:
    """What the PDP needs to know of the resource (or resource type) an action touches.

    For a type-level question (a search before it runs) ``resource_id`` is None and the
    patient facts describe the compartment the search is confined to, if any.
    """

    resource_type: str  # "Observation"; for a non-FHIR action, the route's object ("Plan")
    resource_id: str | None = None
    patient_ref: str | None = None  # the compartment owner "Patient/p1"; None if no patient
    author_refs: frozenset[str] = frozenset()  # Practitioner/Organization refs of its authors
    masked: bool = False  # the patient masked this document from all but its author
    care_relationship: bool = False  # the caller has a care relationship with the patient
    blocked: bool = False  # the patient's consent blocks the caller or its organisation
    emergency_forbidden: bool = False  # the patient refused break-the-glass access
    break_glass_grant: bool = False  # an unexpired break-the-glass grant covers the caller


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    policy_ids: tuple[str, ...]  # the policies that decided (permit or forbid); may be empty
    reason: str  # one short sentence for logs and the OperationOutcome, no patient data

    @property
    def policy_id(self) -> str:
        """The deciding policy for the audit entry ("default-deny" when none matched)."""
        return self.policy_ids[0] if self.policy_ids else "default-deny"


class DecisionPoint(Protocol):
    def decide(self, ctx: RequestContext, action: str, resource: ResourceFacts) -> Decision: ...
