"""The INS rule of the FHIR API: a Patient whose INS is invalid, or contradicts the traits
the Patient gives, is refused (422) with an issue at ``Patient.identifier[n]``.

The composition root (``hygie.security.services``) gives :data:`IDENTITY_RULES` to the
store; the FHIR engine never imports this package. Traits the Patient leaves out are not
judged: a Patient with an INS and no birth date is accepted, one whose birth date says
another year than its INS is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hygie.fhir.errors import Issue
from hygie.fhir.validation_rules import ResourceRule
from hygie.identity.ins import (
    Ins,
    InsError,
    check_birth_date,
    check_birth_place,
    check_sex,
    parse_ins,
)
from hygie.identity.patient import (
    BIRTH_PLACE_URL,
    birth_date_parts,
    birth_place,
    ins_identifiers,
    sex_of,
)


def patient_ins_issues(patient: dict[str, Any]) -> list[Issue]:
    """One issue per INS identifier that is wrong or disagrees with the Patient's traits."""
    issues = []
    for position, oid, value in ins_identifiers(patient):
        where = f"Patient.identifier[{position}]"
        try:
            ins = parse_ins(value, oid)
        except InsError as error:
            issues.append(Issue("value", f"INS refusé : {error}", (f"{where}.value",)))
            continue
        for trait_path, check in _trait_checks(patient):
            try:
                check(ins)
            except InsError as error:
                issues.append(
                    Issue("business-rule", f"INS incohérent : {error}", (where, trait_path))
                )
    return issues


def _trait_checks(patient: dict[str, Any]) -> list[tuple[str, Callable[[Ins], None]]]:
    checks: list[tuple[str, Callable[[Ins], None]]] = []
    sex = sex_of(patient)
    if sex is not None:
        checks.append(("Patient.gender", lambda ins: check_sex(ins, sex)))
    born = birth_date_parts(patient)
    if born is not None:
        checks.append(("Patient.birthDate", lambda ins: check_birth_date(ins, *born)))
    place = birth_place(patient)
    if place is not None:
        at = next(i for i, e in enumerate(patient["extension"]) if e.get("url") == BIRTH_PLACE_URL)
        checks.append((f"Patient.extension[{at}]", lambda ins: check_birth_place(ins, place)))
    return checks


IDENTITY_RULES: Mapping[str, Sequence[ResourceRule]] = {"Patient": (patient_ins_issues,)}
