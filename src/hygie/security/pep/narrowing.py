"""The caller's restrictions as SQL, ANDed into every search (and type history).

Narrowing is an optimisation, never the guarantee: every row it lets through still passes
the instance-level decision. It must therefore only exclude rows the policies would refuse:

- a patient-scoped caller sees the Patient that is them and the resources that point to
  them through the type's Patient compartment parameters, nothing of other types;
- a professional does not see resources in the compartment of a patient who blocks them
  or their organisation, nor of a patient they have no care relationship with (and no
  break-the-glass grant), nor DocumentReferences their patient masked unless they authored
  them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    String,
    and_,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
)

from hygie.db.schema import fhir_resource, idx_reference
from hygie.fhir.access import Narrowing
from hygie.security.pep.compartment import CARE_PARAMS
from hygie.security.pep.facts import caller_conditions
from hygie.security.pep.tables import (
    security_pep_blocked,
    security_pep_masked,
    security_pep_no_emergency,
)
from hygie.security.policy.tables import security_policy_break_glass as grants

# Types outside the compartment definition that still hold a patient's data, and whose
# owner is not indexed: left to the instance-level decision.
_UNINDEXED_OWNERSHIP = frozenset({"Binary"})


def _patient_ref(id_col: ColumnElement[str]) -> ColumnElement[str]:
    return literal("Patient/", String).concat(id_col)


@dataclass(frozen=True)
class PatientNarrowing:
    """Confines a search to one patient's compartment."""

    patient_id: str
    params: dict[str, tuple[str, ...]]

    def __call__(self, res: FromClause, resource_type: str) -> ColumnElement[bool] | None:
        if resource_type == "Patient":
            return res.c.id == self.patient_id
        params = self.params.get(resource_type)
        if not params:
            return None if resource_type in _UNINDEXED_OWNERSHIP else false()
        refs = idx_reference
        return res.c.seq.in_(
            select(refs.c.resource_seq).where(
                refs.c.resource_type == resource_type,
                refs.c.param.in_(params),
                refs.c.target_id == self.patient_id,
                refs.c.target_type == "Patient",
            )
        )


@dataclass(frozen=True)
class ProfessionalNarrowing:
    """Leaves out what consent or the lack of a care relationship forbids a professional."""

    caller_refs: frozenset[str]  # the professional and their organisation
    actor_ref: str | None
    params: dict[str, tuple[str, ...]]
    now: int

    def __call__(self, res: FromClause, resource_type: str) -> ColumnElement[bool] | None:
        params = self.params.get(resource_type)
        if params is None:
            return None
        refs = idx_reference.alias("owner")
        clauses = [
            ~exists(
                select(refs.c.resource_seq).where(
                    refs.c.resource_seq == res.c.seq,
                    refs.c.param.in_(params),
                    refs.c.target_type == "Patient",
                    not_(self._allowed(refs.c.target_id)),
                )
            )
        ]
        if resource_type == "Patient":
            clauses.append(self._allowed(res.c.id))
        if resource_type == "DocumentReference":
            clauses.append(not_(self._masked_from_caller(res)))
        return and_(*clauses)

    def _allowed(self, patient_id: ColumnElement[str]) -> ColumnElement[bool]:
        """The patient neither blocks the caller nor is out of their reach."""
        ref = _patient_ref(patient_id)
        blocked = select(security_pep_blocked.c.patient_ref).where(
            security_pep_blocked.c.actor_ref.in_(sorted(self.caller_refs))
        )
        return and_(
            or_(patient_id.in_(self._cared_for()), ref.in_(self._granted())),
            ref.not_in(blocked),
        )

    def _cared_for(self) -> Select[tuple[str]]:
        patient, care = fhir_resource.alias("cared"), idx_reference.alias("care")
        return (
            select(patient.c.id)
            .join_from(patient, care, care.c.resource_seq == patient.c.seq)
            .where(
                patient.c.resource_type == "Patient",
                care.c.param.in_(CARE_PARAMS),
                caller_conditions(self.caller_refs, care.c.target_type, care.c.target_id),
            )
        )

    def _granted(self) -> Select[tuple[str]]:
        refused = select(security_pep_no_emergency.c.patient_ref)
        return select(grants.c.patient_ref).where(
            grants.c.actor_ref == (self.actor_ref or ""),
            grants.c.expires_at > self.now,
            grants.c.patient_ref.not_in(refused),
        )

    def _masked_from_caller(self, res: FromClause) -> ColumnElement[bool]:
        masked, subject = security_pep_masked, idx_reference.alias("subject")
        author = idx_reference.alias("author")
        masked_by_subject = exists(
            select(masked.c.document_ref).where(
                masked.c.document_ref == literal("DocumentReference/", String).concat(res.c.id),
                subject.c.resource_seq == res.c.seq,
                subject.c.param == "subject",
                subject.c.target_type == "Patient",
                masked.c.patient_ref == _patient_ref(subject.c.target_id),
            )
        )
        authored = exists(
            select(author.c.resource_seq).where(
                author.c.resource_seq == res.c.seq,
                author.c.param == "author",
                caller_conditions(self.caller_refs, author.c.target_type, author.c.target_id),
            )
        )
        return and_(masked_by_subject, not_(authored))


def narrowing_for(
    *,
    patient_id: str | None,
    caller_refs: frozenset[str],
    actor_ref: str | None,
    params: dict[str, tuple[str, ...]],
    now: int,
) -> Narrowing | None:
    if patient_id is not None:
        return PatientNarrowing(patient_id, params)
    if caller_refs:
        return ProfessionalNarrowing(caller_refs, actor_ref, params, now)
    return None
