"""The per-request guard: the PDP asked on every FHIR interaction, its answers audited.

:class:`EnforcementPoint` is built once (PDP, audit sink, compartment definition);
:meth:`EnforcementPoint.guard` gives the :class:`PolicyGuard` of one request, which the FHIR
engine calls through :class:`hygie.fhir.access.AccessGuard`:

- type level, before any I/O: the facts are the resource type and, for a patient, their
  own compartment; a refusal answers 403;
- instance level, on every resource in and out: the facts of a whole batch (a page of
  matches, its includes, a history page) come from the resources' own content (their
  compartment owners and authors, no query) and one query for consent and care;
- audit: one entry per decision on a read or write, one per (outcome, patient) for a
  search or history page, stored through the sink before the response leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hygie.db.schema import fhir_resource
from hygie.fhir.access import HISTORY, SEARCH, Narrowing
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.model import StoredResource
from hygie.fhir.searchparams import SearchParamRegistry, default_registry
from hygie.security.audit.entry import AuditEntry
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.pep.audit import AuditSubmitter, decision_entry
from hygie.security.pep.compartment import CompartmentReader, Ownership
from hygie.security.pep.facts import BatchFacts, load_facts
from hygie.security.pep.narrowing import narrowing_for
from hygie.security.policy.model import Decision, DecisionPoint, ResourceFacts


class EnforcementPoint:
    """Builds the guard of each request; shared by all requests."""

    def __init__(
        self,
        pdp: DecisionPoint,
        *,
        audit: AuditSubmitter | None,
        registry: SearchParamRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pdp = pdp
        self.audit = audit
        self.reader = CompartmentReader(registry or default_registry())
        self.clock = clock

    def guard(self, ctx: RequestContext, *, audit: AuditSubmitter | None = None) -> PolicyGuard:
        """The guard of one request; ``audit`` replaces the shared sink for it (the web layer
        collects the entries and awaits their storage without blocking the event loop)."""
        return PolicyGuard(self, ctx, audit or self.audit)


@dataclass(frozen=True, slots=True)
class _Subject:
    """One resource to decide on, with what its content says."""

    resource_type: str
    resource_id: str | None
    ownership: Ownership


@dataclass
class _Record:
    entries: list[AuditEntry] = field(default_factory=list)
    # Type-level permits are only stored when nothing more precise was recorded (most
    # requests record an instance entry): kept unbuilt until then, as entry builders.
    type_permits: list[Callable[[], AuditEntry]] = field(default_factory=list)


class PolicyGuard:
    """Implements :class:`hygie.fhir.access.AccessGuard` for one request's context."""

    def __init__(
        self, point: EnforcementPoint, ctx: RequestContext, audit: AuditSubmitter | None
    ) -> None:
        self._point = point
        self._audit = audit
        self.ctx = ctx
        principal = ctx.principal
        own = principal.fhir_ref if principal.kind is PrincipalKind.PATIENT else None
        # A SMART launch context confines the caller to that patient, whoever they are.
        self.compartment = ctx.launch_patient or own
        self._caller_refs = (
            frozenset(r for r in (principal.fhir_ref, principal.organization_ref) if r)
            if principal.kind is PrincipalKind.PRACTITIONER
            else frozenset()
        )
        self._record = _Record()
        self._narrowing: Narrowing | None = None
        self._narrowed = False

    def __repr__(self) -> str:
        return f"PolicyGuard(principal={self.ctx.principal.kind.value}:{self.ctx.principal.id})"

    # -- type level ---------------------------------------------------------------------------
    def check_type(self, action: str, resource_type: str) -> None:
        own = self.compartment if self.ctx.principal.kind is PrincipalKind.PATIENT else None
        decision = self._point.pdp.decide(
            self.ctx, action, ResourceFacts(resource_type, patient_ref=own)
        )
        if self._audit is not None:
            entry = partial(
                self._entry,
                action,
                decision,
                patient=own,
                note=f"{action} {resource_type}",
                now=self._point.clock(),
            )
            if decision.allowed:
                self._record.type_permits.append(entry)
            else:
                self._record.entries.append(entry())
        if not decision.allowed:
            raise FhirError(403, Issue("forbidden", decision.reason))

    def narrowing(self) -> Narrowing | None:
        if not self._narrowed:
            self._narrowing = narrowing_for(
                patient_id=self.compartment.removeprefix("Patient/") if self.compartment else None,
                caller_refs=self._caller_refs,
                actor_ref=self.ctx.principal.fhir_ref,
                params=self._point.reader.params,
                now=int(self._point.clock()),
            )
            self._narrowed = True
        return self._narrowing

    # -- instance level -----------------------------------------------------------------------
    def release(
        self, conn: Connection, action: str, resources: Sequence[StoredResource]
    ) -> list[StoredResource]:
        # A deletion has no content to decide on: it leaves with a released version of the
        # same resource in this batch (a history page), never on its own.
        live = [r for r in resources if not r.deleted]
        if not live:
            return []
        subjects = [
            _Subject(r.resource_type, r.id, self._point.reader.stored_ownership(r))
            for r in live
            if r.content is not None
        ]
        subjects = _resolve_contexts(conn, self._point.reader, subjects)
        decisions = self._decide_all(conn, action, subjects)
        auditing = self._audit is not None
        grouped = action in (SEARCH, HISTORY)
        if grouped and auditing:
            self._record_groups(action, subjects, decisions)
        released: set[int] = set()
        for stored, subject, (facts, decision) in zip(live, subjects, decisions, strict=True):
            if auditing and not grouped:
                self._record.entries.append(self._instance_entry(action, subject, facts, decision))
            if decision.allowed:
                released.add(id(stored))
        seen = {(r.resource_type, r.id) for r in live if id(r) in released}
        return [
            r
            for r in resources
            if id(r) in released or (r.deleted and (r.resource_type, r.id) in seen)
        ]

    def admit(
        self,
        conn: Connection,
        action: str,
        body: dict[str, Any] | None,
        current: StoredResource | None,
    ) -> None:
        subjects = []
        if current is not None and current.content is not None:
            ownership = self._point.reader.stored_ownership(current)
            subjects.append(_Subject(current.resource_type, current.id, ownership))
        if body is not None:
            subjects.append(
                _Subject(body["resourceType"], body.get("id"), self._point.reader.ownership(body))
            )
        subjects = _resolve_contexts(conn, self._point.reader, subjects)
        for subject, (facts, decision) in zip(
            subjects, self._decide_all(conn, action, subjects), strict=True
        ):
            final = not decision.allowed or subject is subjects[-1]
            if final and self._audit is not None:
                self._record.entries.append(self._instance_entry(action, subject, facts, decision))
            if not decision.allowed:
                raise FhirError(403, Issue("forbidden", decision.reason))

    def finish(self) -> None:
        record, self._record = self._record, _Record()
        entries = record.entries or [build() for build in record.type_permits]
        if entries and self._audit is not None:
            self._audit.submit(entries)

    # -- internals ----------------------------------------------------------------------------
    def _decide_all(
        self, conn: Connection, action: str, subjects: Sequence[_Subject]
    ) -> list[tuple[ResourceFacts, Decision]]:
        patients = {p for s in subjects for p in s.ownership.owners}
        documents = {
            f"DocumentReference/{s.resource_id}"
            for s in subjects
            if s.resource_type == "DocumentReference" and s.resource_id
        }
        batch = BatchFacts()
        if (patients and self._caller_refs) or documents:
            batch = load_facts(
                conn,
                caller_refs=self._caller_refs,
                actor_ref=self.ctx.principal.fhir_ref,
                patients=patients,
                documents=documents,
                now=int(self._point.clock()),
            )
        decided = []
        for subject in subjects:
            facts = self._facts(subject, batch)
            decided.append((facts, self._point.pdp.decide(self.ctx, action, facts)))
        return decided

    def _facts(self, subject: _Subject, batch: BatchFacts) -> ResourceFacts:
        owners = subject.ownership.owners
        # A resource can sit in several patients' compartments (an allergy recorded by one
        # patient about another). A patient is decided as owner only when every owner is
        # them; otherwise on another owner, so nobody reads or writes in a record not theirs.
        others = [o for o in owners if o != self.compartment]
        patient_ref = others[0] if others else (owners[0] if owners else None)
        masked_by = batch.masked.get(f"{subject.resource_type}/{subject.resource_id}", frozenset())
        return ResourceFacts(
            resource_type=subject.resource_type,
            resource_id=subject.resource_id,
            patient_ref=patient_ref,
            author_refs=subject.ownership.authors,
            masked=bool(owners) and owners[0] in masked_by,
            care_relationship=bool(owners) and all(o in batch.care for o in owners),
            blocked=any(o in batch.blocked for o in owners),
            emergency_forbidden=any(o in batch.no_emergency for o in owners),
            break_glass_grant=bool(owners)
            and any(o in batch.grants for o in owners)
            and all(o in batch.care or o in batch.grants for o in owners),
        )

    def _instance_entry(
        self, action: str, subject: _Subject, facts: ResourceFacts, decision: Decision
    ) -> AuditEntry:
        resource = f"{subject.resource_type}/{subject.resource_id}" if subject.resource_id else None
        return self._entry(
            action,
            decision,
            resource=resource,
            patient=facts.patient_ref,
            break_glass=decision.allowed and _by_break_glass(facts),
            note=None if resource else f"{action} {subject.resource_type}",
        )

    def _record_groups(
        self,
        action: str,
        subjects: Sequence[_Subject],
        decisions: Sequence[tuple[ResourceFacts, Decision]],
    ) -> None:
        """One entry per (outcome, deciding policy, patient) of a search or history page."""
        groups: dict[tuple[Decision, str | None, bool], list[_Subject]] = {}
        for subject, (facts, decision) in zip(subjects, decisions, strict=True):
            glass = decision.allowed and _by_break_glass(facts)
            groups.setdefault((decision, facts.patient_ref, glass), []).append(subject)
        for (decision, patient, glass), members in groups.items():
            types = ", ".join(sorted({m.resource_type for m in members}))
            self._record.entries.append(
                self._entry(
                    action,
                    decision,
                    patient=patient,
                    break_glass=glass,
                    note=f"{action} {types}: {len(members)} resources",
                )
            )

    def _entry(
        self,
        action: str,
        decision: Decision,
        *,
        resource: str | None = None,
        patient: str | None = None,
        break_glass: bool = False,
        note: str | None = None,
        now: float | None = None,
    ) -> AuditEntry:
        return decision_entry(
            self.ctx,
            action,
            decision,
            now=self._point.clock() if now is None else now,
            resource=resource,
            patient=patient,
            break_glass=break_glass,
            note=note,
        )


def _by_break_glass(facts: ResourceFacts) -> bool:
    return facts.break_glass_grant and not facts.care_relationship


def _resolve_contexts(
    conn: Connection, reader: CompartmentReader, subjects: list[_Subject]
) -> list[_Subject]:
    """Binaries whose securityContext is a resource (a DocumentReference) belong to that
    resource's patients: read those resources, all in one query."""
    contexts = {s.ownership.context for s in subjects if s.ownership.context}
    if not contexts:
        return subjects
    pairs = [ref.split("/", 1) for ref in sorted(contexts) if "/" in ref]
    res = fhir_resource
    rows = conn.execute(
        select(res.c.resource_type, res.c.id, res.c.content).where(
            res.c.deleted.is_(False),
            res.c.id.in_([i for _t, i in pairs]),
            res.c.resource_type.in_({t for t, _i in pairs}),
        )
    )
    owners = {
        f"{r.resource_type}/{r.id}": reader.ownership(orjson.loads(r.content)).owners
        for r in rows
        if r.content is not None
    }
    return [
        _Subject(
            s.resource_type,
            s.resource_id,
            Ownership(owners.get(s.ownership.context, ()), s.ownership.authors),
        )
        if s.ownership.context
        else s
        for s in subjects
    ]
