"""The consent and care facts of one batch of resources, read in one query.

For a page of search results, a read or a Bundle entry, the guard needs, per patient
involved: does the patient block the caller or its organisation, does the caller have a
care relationship (the Patient's managingOrganization is the caller's organisation, or its
generalPractitioner names the caller or their organisation), an unexpired break-the-glass
grant, a refusal of emergency access; and which of the documents are masked. All of it
comes from one UNION ALL query, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    false,
    literal,
    or_,
    select,
    union_all,
)

from hygie.db.schema import fhir_resource, idx_reference
from hygie.security.pep.compartment import CARE_PARAMS
from hygie.security.pep.tables import (
    security_pep_blocked,
    security_pep_masked,
    security_pep_no_emergency,
)
from hygie.security.policy.tables import security_policy_break_glass as grants


@dataclass(frozen=True, slots=True)
class BatchFacts:
    blocked: frozenset[str] = frozenset()  # patients who block the caller
    care: frozenset[str] = frozenset()  # patients the caller cares for
    grants: frozenset[str] = frozenset()  # patients with an unexpired break-the-glass grant
    no_emergency: frozenset[str] = frozenset()  # patients who refuse emergency access
    # masked document -> the patients who masked it
    masked: dict[str, frozenset[str]] = field(default_factory=dict)


def caller_conditions(
    refs: Collection[str], type_col: ColumnElement[str], id_col: ColumnElement[str]
) -> ColumnElement[bool]:
    """``(type_col, id_col)`` names one of ``refs`` ("Practitioner/1", "Organization/2")."""
    pairs = [ref.split("/", 1) for ref in sorted(refs)]
    return or_(false(), *(and_(type_col == t, id_col == i) for t, i in pairs))


@cache
def _statement(callers: int, *, patients: bool, documents: bool) -> CompoundSelect[str, str]:
    """The facts query for ``callers`` caller references, built once per shape: building
    SQLAlchemy constructs costs more than running the query."""
    parts: list[Select[str, str]] = []
    if patients:
        blocked, no_emergency = security_pep_blocked, security_pep_no_emergency
        parts.append(
            select(literal("b"), blocked.c.patient_ref).where(
                blocked.c.patient_ref.in_(bindparam("patients", expanding=True)),
                blocked.c.actor_ref.in_(bindparam("callers", expanding=True)),
            )
        )
        parts.append(
            select(literal("e"), no_emergency.c.patient_ref).where(
                no_emergency.c.patient_ref.in_(bindparam("patients", expanding=True))
            )
        )
        patient, care = fhir_resource.alias("patient"), idx_reference.alias("care")
        parts.append(
            select(literal("c"), literal("Patient/", String).concat(patient.c.id))
            .join_from(patient, care, care.c.resource_seq == patient.c.seq)
            .where(
                patient.c.resource_type == "Patient",
                patient.c.id.in_(bindparam("patient_ids", expanding=True)),
                care.c.param.in_(CARE_PARAMS),
                or_(
                    *(
                        and_(
                            care.c.target_type == bindparam(f"type{n}"),
                            care.c.target_id == bindparam(f"id{n}"),
                        )
                        for n in range(callers)
                    )
                ),
            )
        )
        parts.append(
            select(literal("g"), grants.c.patient_ref).where(
                grants.c.actor_ref == bindparam("actor"),
                grants.c.patient_ref.in_(bindparam("patients", expanding=True)),
                grants.c.expires_at > bindparam("now"),
            )
        )
    if documents:
        masked = security_pep_masked
        parts.append(
            select(literal("m"), masked.c.document_ref + literal(" ") + masked.c.patient_ref).where(
                masked.c.document_ref.in_(bindparam("documents", expanding=True))
            )
        )
    return union_all(*parts)


def load_facts(
    conn: Connection,
    *,
    caller_refs: frozenset[str],
    actor_ref: str | None,
    patients: Collection[str],
    documents: Collection[str],
    now: int,
) -> BatchFacts:
    """The facts of ``patients`` and ``documents`` for a caller known by ``caller_refs``."""
    with_patients = bool(patients and caller_refs)
    if not with_patients and not documents:
        return BatchFacts()
    params: dict[str, Any] = {"documents": sorted(documents)}
    if with_patients:
        pairs = [ref.split("/", 1) for ref in sorted(caller_refs)]
        params.update(
            patients=sorted(patients),
            patient_ids=[p.removeprefix("Patient/") for p in sorted(patients)],
            callers=sorted(caller_refs),
            actor=actor_ref or "",
            now=now,
        )
        for n, (rtype, rid) in enumerate(pairs):
            params[f"type{n}"], params[f"id{n}"] = rtype, rid
    statement = _statement(
        len(caller_refs) if with_patients else 0,
        patients=with_patients,
        documents=bool(documents),
    )
    found: dict[str, set[str]] = {"b": set(), "e": set(), "c": set(), "g": set()}
    masked_by: dict[str, set[str]] = {}
    for tag, value in conn.execute(statement, params):
        if tag == "m":
            document, patient_ref = value.split(" ", 1)
            masked_by.setdefault(document, set()).add(patient_ref)
        else:
            found[tag].add(value)
    return BatchFacts(
        blocked=frozenset(found["b"]),
        care=frozenset(found["c"]),
        grants=frozenset(found["g"]),
        no_emergency=frozenset(found["e"]),
        masked={doc: frozenset(by) for doc, by in masked_by.items()},
    )
