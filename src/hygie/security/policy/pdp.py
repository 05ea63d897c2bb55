"""The Cedar policy decision point: one question (who, what, on what, in which context), one answer.

Facts are computed in Python (scopes, compartment, authorship) and handed to Cedar as a small
request; the policies in ``cedar/`` decide. Default deny, and a forbid always wins. An
evaluation error is a denial too: Cedar skips a policy that errors, and a skipped forbid
must never turn into a permit.

Decisions are memoised by the request's attributes: the loader refuses policies that name
a specific principal or resource, so two requests with equal attributes get equal answers.
Likewise, when the policies only ask whether a resource has a patient (``resource has
patient``), never which, the memo keys on that, not on the patient. The authentication
age grows every second; when the policies only compare it with integer
literals, the memo keeps where it stands against each of them (below, equal, above), not
the age itself, so a caller's decisions stay memoised while their authentication ages.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import cedarpy
import orjson

from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.policy.loader import LoadedPolicies, load_directory
from hygie.security.policy.model import Decision, ResourceFacts
from hygie.security.scopes import Scope, permits

log = logging.getLogger(__name__)

DEFAULT_POLICY_DIR = Path(__file__).resolve().parent / "cedar"
CACHE_SIZE = 8192

_PRINCIPAL_TYPES = {kind: f"Hygie::{kind.name.title()}" for kind in PrincipalKind}
_ACTION_TYPE = "Hygie::Action"
_FHIR_RESOURCE = "Hygie::FhirResource"
_ROUTE = "Hygie::Route"
_DEFAULT_DENY = "no policy permits this action"
_UNKNOWN_ACTION = "unknown action"
_EVALUATION_ERROR = "the policies could not be evaluated"

_Key = tuple[Any, ...]
_SCOPE_CONTEXTS = ("patient", "user", "system")
_AUTH_AGE = re.compile(r"\bauth_age\b")
_AUTH_AGE_COMPARED = re.compile(
    r"context\.auth_age\s*(?:[<>]=?|[!=]=)\s*(-?\d+)|(-?\d+)\s*(?:[<>]=?|[!=]=)\s*context\.auth_age"
)


_PATIENT_VALUE = re.compile(r"\bresource\s*(?:\.\s*patient\b|\[)")


def auth_age_thresholds(policy_text: str) -> tuple[int, ...] | None:
    """The integers the policies compare ``context.auth_age`` with; None when the age is
    used any other way (then only the exact age gives the same answer)."""
    compared = _AUTH_AGE_COMPARED.findall(policy_text)
    if len(compared) != len(_AUTH_AGE.findall(policy_text)):
        return None
    return tuple(sorted({int(left or right) for left, right in compared}))


class CedarDecisionPoint:
    """Implements :class:`hygie.security.policy.model.DecisionPoint` with Cedar policies."""

    def __init__(self, loaded: LoadedPolicies, *, clock: Callable[[], float] = time.time) -> None:
        self._loaded = loaded
        self._clock = clock
        self._cache: dict[_Key, Decision] = {}
        self._age_thresholds = auth_age_thresholds(loaded.text)
        self._patient_value_read = _PATIENT_VALUE.search(loaded.text) is not None

    @classmethod
    def load(
        cls, directory: Path = DEFAULT_POLICY_DIR, *, clock: Callable[[], float] = time.time
    ) -> CedarDecisionPoint:
        """Read, parse and validate every policy; :class:`PolicyError` if anything is wrong."""
        return cls(load_directory(directory), clock=clock)

    @property
    def actions(self) -> Mapping[str, str | None]:
        """Every action that can be asked, with its SMART permission letter (None: not FHIR)."""
        return self._loaded.smart_permission

    def is_break_glass(self, decision: Decision) -> bool:
        """Whether a permit rests on break-the-glass: its audit entry must be flagged."""
        policies = self._loaded.policies
        return decision.allowed and any(
            policies[policy_id].break_glass for policy_id in decision.policy_ids
        )

    def decide(self, ctx: RequestContext, action: str, resource: ResourceFacts) -> Decision:
        if action not in self._loaded.smart_permission:
            return Decision(False, (), _UNKNOWN_ACTION)
        principal = ctx.principal
        context = cedar_context(
            ctx, resource, self._loaded.smart_permission[action], now=int(self._clock())
        )
        keyed = context
        if self._age_thresholds is not None:
            # The age's place against each threshold (-1, 0, 1) instead of the age itself.
            age = context["auth_age"]
            keyed = context | {
                "auth_age": tuple((age > t) - (age < t) for t in self._age_thresholds)
            }
        key = (
            principal.kind,
            principal.roles,
            principal.organization_ref,
            action,
            resource.resource_type,
            resource.patient_ref if self._patient_value_read else resource.patient_ref is None,
            *keyed.values(),
        )
        decision = self._cache.get(key)
        if decision is None:
            decision = self._evaluate(ctx, action, resource, context)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = decision
        return decision

    def cedar_request(
        self, ctx: RequestContext, action: str, resource: ResourceFacts, context: dict[str, Any]
    ) -> tuple[dict[str, Any], cedarpy.Entities]:
        """The Cedar request and entities of one decision (the tests check them on the schema)."""
        principal = ctx.principal
        principal_uid = {"type": _PRINCIPAL_TYPES[principal.kind], "id": principal.id}
        principal_attrs: dict[str, Any] = {"roles": sorted(principal.roles)}
        if principal.organization_ref is not None:
            principal_attrs["organization"] = principal.organization_ref
        fhir = self._loaded.smart_permission[action] is not None
        if fhir:
            resource_uid = {"type": _FHIR_RESOURCE, "id": _reference(resource)}
            resource_attrs = {"type": resource.resource_type}
        else:
            resource_uid = {"type": _ROUTE, "id": resource.resource_type}
            resource_attrs = {"object": resource.resource_type}
        if resource.patient_ref is not None:
            resource_attrs["patient"] = resource.patient_ref
        entities = orjson.dumps(
            [
                {"uid": principal_uid, "attrs": principal_attrs, "parents": []},
                {"uid": resource_uid, "attrs": resource_attrs, "parents": []},
            ]
        ).decode()
        request = {
            "principal": principal_uid,
            "action": {"type": _ACTION_TYPE, "id": action},
            "resource": resource_uid,
            "context": orjson.dumps(context).decode(),
        }
        return request, self._loaded.action_entities.with_added_json_str(entities)

    def _evaluate(
        self, ctx: RequestContext, action: str, resource: ResourceFacts, context: dict[str, Any]
    ) -> Decision:
        request, entities = self.cedar_request(ctx, action, resource, context)
        result = cedarpy.is_authorized(request, self._loaded.policy_set, entities)
        diagnostics = result.diagnostics
        if diagnostics.errors or result.decision is cedarpy.Decision.NoDecision:
            log.error("policy evaluation failed for %s: %s", action, diagnostics.errors)
            return Decision(False, (), _EVALUATION_ERROR)
        names = diagnostics.id_annotations_by_reason
        policy_ids = tuple(sorted(names[reason] for reason in diagnostics.reasons))
        if not policy_ids:
            return Decision(False, (), _DEFAULT_DENY)
        return Decision(result.allowed, policy_ids, self._loaded.policies[policy_ids[0]].reason)


def cedar_context(
    ctx: RequestContext, resource: ResourceFacts, smart_letter: str | None, *, now: int
) -> dict[str, Any]:
    """The Cedar context of one decision (its shape is ``RequestContext`` in the schema)."""
    principal = ctx.principal
    patient_ref = resource.patient_ref
    own_refs = {principal.fhir_ref, principal.organization_ref}
    if principal.kind is PrincipalKind.DEVICE and principal.fhir_ref is None:
        own_refs.add(f"Device/{principal.id}")
    own_refs.discard(None)
    if smart_letter is None:
        scope_patient = scope_user = scope_system = False
    else:
        scope_patient, scope_user, scope_system = _scope_flags(
            ctx.scopes, resource.resource_type, smart_letter
        )
    return {
        "aal": int(ctx.aal),
        "auth_age": ctx.auth_age(now),
        "client_id": ctx.client_id or "",
        "scope_patient": scope_patient,
        "scope_user": scope_user,
        "scope_system": scope_system,
        "network_zone": ctx.network_zone,
        "device_posture": ctx.device_posture or "",
        "purpose_of_use": ctx.purpose_of_use,
        "break_glass": ctx.break_glass,
        "care_relationship": resource.care_relationship,
        "blocked": resource.blocked,
        "masked": resource.masked,
        "is_author": not own_refs.isdisjoint(resource.author_refs),
        "in_own_compartment": principal.kind is PrincipalKind.PATIENT
        and patient_ref is not None
        and patient_ref == principal.fhir_ref,
        "in_launch_compartment": patient_ref is not None and patient_ref == ctx.launch_patient,
        "emergency_forbidden": resource.emergency_forbidden,
        "break_glass_grant": resource.break_glass_grant,
    }


@lru_cache(maxsize=4096)
def _scope_flags(scopes: frozenset[Scope], resource_type: str, letter: str) -> tuple[bool, ...]:
    """Whether the scopes allow ``letter`` on the type in the patient, user and system
    contexts. Memoised: a caller sends the same scopes for minutes (a frozenset keeps its
    hash, so a hit costs a lookup)."""
    return tuple(permits(scopes, kind, resource_type, letter) for kind in _SCOPE_CONTEXTS)


def _reference(resource: ResourceFacts) -> str:
    if resource.resource_id is None:
        return resource.resource_type
    return f"{resource.resource_type}/{resource.resource_id}"
