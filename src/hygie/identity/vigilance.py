"""Identity vigilance: likely duplicate Patients, flagged to the identity office, and the
merge of two Patients with their history kept.

A pair is suspect when both Patients are active, born the same day, of the same sex, with
birth names equal or alike in French (:func:`hygie.identity.names.phonetic_key`) and first
names equal, swapped, alike, or sharing one. Two different valid INS mean two persons
(the INS is unique): such a pair is never a suspect; the same INS on both always is.

The identity office (cellule d'identitovigilance) is told with one FHIR Task per pair:
code DPOT "Doublon potentiel" (FR Core's fr-core-cs-v2-0445), ``for`` one Patient,
``focus`` the other, the reasons in ``description``; a business identifier makes flagging
idempotent. :func:`duplicate_tasks` lists the open ones.

A merge keeps everything: the replaced Patient stays readable, inactive, with
``link.type = replaced-by``; the kept one gets ``replaces``; the clinical resources that
pointed at the replaced Patient are rewritten to the kept one as new versions (their
history still shows the old subject); the pair's Task is completed. All of it is one
transaction Bundle, so a merge happens whole or not at all. The replaced Patient's
consents stay with it: a patient's privacy choices are not moved without them.

Every read and write goes through a :class:`FhirClient`, so the enforcement point decides.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hygie.http.caller_fhir import JSON_HEADERS, FhirCallError, FhirClient
from hygie.identity.ins import InsError, parse_ins
from hygie.identity.names import phonetic_key, plain
from hygie.identity.patient import birth_name, first_names, ins_identifiers
from hygie.identity.status import STATUS_SYSTEM

VIGILANCE_SYSTEM = "urn:hygie:identity-vigilance"
DUPLICATE_CODE = {"system": STATUS_SYSTEM, "code": "DPOT", "display": "Doublon potentiel"}
# The references a merge moves: (resource type, search parameter naming the patient).
MOVED_REFERENCES = (
    ("Encounter", "subject"),
    ("Observation", "subject"),
    ("Condition", "subject"),
    ("Procedure", "subject"),
    ("AllergyIntolerance", "patient"),
    ("Immunization", "patient"),
    ("MedicationStatement", "subject"),
    ("MedicationRequest", "subject"),
    ("DiagnosticReport", "subject"),
    ("DocumentReference", "subject"),
    ("Appointment", "patient"),
    ("CarePlan", "subject"),
)


class MergeError(ValueError):
    """A merge refused (French message)."""


@dataclass(frozen=True)
class DuplicateSuspect:
    first: str  # Patient ids, first < second
    second: str
    reasons: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"doublon/{self.first}/{self.second}"


@dataclass(frozen=True)
class MergeResult:
    kept: str
    replaced: str
    moved: int  # resources whose reference was moved to the kept Patient


def duplicate_reasons(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    """Why two Patients may be one person; empty when they are not suspects."""
    if a.get("active") is False or b.get("active") is False or _linked(a, b):
        return ()
    ins_a, ins_b = _ins_number(a), _ins_number(b)
    if ins_a and ins_b:
        return ("même INS",) if ins_a == ins_b else ()
    if not a.get("birthDate") or a.get("birthDate") != b.get("birthDate"):
        return ()
    if a.get("gender") != b.get("gender"):
        return ()
    name = _name_reason(birth_name(a) or "", birth_name(b) or "")
    given = _given_reason(first_names(a), first_names(b))
    if name is None or given is None:
        return ()
    return (name, given, "même date de naissance", "même sexe")


def find_duplicates(fhir: FhirClient) -> list[DuplicateSuspect]:
    """Every suspect pair among the Patients the caller may see."""
    by_birth: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_ins: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for patient in fhir.search_all("Patient", [("active", "true")]):
        by_birth[str(patient.get("birthDate", ""))].append(patient)
        if number := _ins_number(patient):
            by_ins[number].append(patient)
    found: dict[tuple[str, str], DuplicateSuspect] = {}
    for group in [*by_birth.values(), *by_ins.values()]:
        for a, b in itertools.combinations(sorted(group, key=lambda p: p["id"]), 2):
            reasons = duplicate_reasons(a, b)
            if reasons:
                found[(a["id"], b["id"])] = DuplicateSuspect(a["id"], b["id"], reasons)
    return sorted(found.values(), key=lambda s: (s.first, s.second))


def flag_duplicates(fhir: FhirClient, suspects: Sequence[DuplicateSuspect]) -> int:
    """A Task for the identity office per pair not flagged yet; how many were created."""
    created = 0
    for suspect in suspects:
        criteria = f"identifier={VIGILANCE_SYSTEM}|{suspect.key}"
        response = fhir.call(
            "POST",
            "Task",
            body=orjson.dumps(_duplicate_task(suspect)),
            headers={**JSON_HEADERS, "if-none-exist": criteria},
        )
        if response.status >= 400:
            raise FhirCallError(response.status, orjson.loads(response.body))
        created += response.status == 201
    return created


def duplicate_tasks(fhir: FhirClient) -> list[dict[str, Any]]:
    """The identity office's open duplicate Tasks."""
    code = f"{DUPLICATE_CODE['system']}|{DUPLICATE_CODE['code']}"
    return list(fhir.search_all("Task", [("code", code), ("status", "requested")]))


def merge_patients(fhir: FhirClient, replaced_id: str, kept_id: str) -> MergeResult:
    """Merge Patient ``replaced_id`` into ``kept_id`` (see the module docstring)."""
    if replaced_id == kept_id:
        raise MergeError("une identité ne peut pas être fusionnée avec elle-même")
    replaced, kept = fhir.read("Patient", replaced_id), fhir.read("Patient", kept_id)
    if replaced.get("active") is False or kept.get("active") is False:
        raise MergeError("une identité inactive (déjà fusionnée) ne peut pas être fusionnée")
    ins_replaced, ins_kept = _ins_number(replaced), _ins_number(kept)
    if ins_replaced and ins_kept and ins_replaced != ins_kept:
        raise MergeError(
            "les deux identités portent des INS différents : ce sont deux personnes "
            "(collision), pas un doublon"
        )
    old, new = f"Patient/{replaced_id}", f"Patient/{kept_id}"
    kept = _with_link(kept, old, "replaces")
    replaced = {**_with_link(replaced, new, "replaced-by"), "active": False}
    moved = [
        _pointing(resource, old, new)
        for resource_type, param in MOVED_REFERENCES
        for resource in fhir.search_all(resource_type, [(param, old)])
    ]
    tasks = [
        {**task, "status": "completed"}
        for task in fhir.search_all(
            "Task", [("identifier", f"{VIGILANCE_SYSTEM}|{_pair_key(kept_id, replaced_id)}")]
        )
        if task.get("status") == "requested"
    ]
    fhir.transaction(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [_put(resource) for resource in (kept, replaced, *moved, *tasks)],
        }
    )
    return MergeResult(kept=kept_id, replaced=replaced_id, moved=len(moved))


def _name_reason(a: str, b: str) -> str | None:
    if not a or not b:
        return None
    if plain(a) == plain(b):
        return "même nom de naissance"
    if phonetic_key(a) == phonetic_key(b):
        return f"noms de naissance proches ({a} / {b})"
    return None


def _given_reason(a: Sequence[str], b: Sequence[str]) -> str | None:
    plain_a, plain_b = [plain(n) for n in a], [plain(n) for n in b]
    if not plain_a or not plain_b:
        return None
    if plain_a == plain_b:
        return "mêmes prénoms"
    if sorted(plain_a) == sorted(plain_b):
        return "prénoms inversés"
    if [phonetic_key(n) for n in a] == [phonetic_key(n) for n in b]:
        return "prénoms proches"
    if set(plain_a) & set(plain_b):
        return "un prénom en commun"
    return None


def _ins_number(patient: dict[str, Any]) -> str | None:
    for _position, oid, value in ins_identifiers(patient):
        try:
            return parse_ins(value, oid).number
        except InsError:
            continue
    return None


def _linked(a: dict[str, Any], b: dict[str, Any]) -> bool:
    targets = {link.get("other", {}).get("reference") for p in (a, b) for link in p.get("link", ())}
    return f"Patient/{a.get('id')}" in targets or f"Patient/{b.get('id')}" in targets


def _with_link(patient: dict[str, Any], other: str, kind: str) -> dict[str, Any]:
    links = [
        link for link in patient.get("link", ()) if link.get("other", {}).get("reference") != other
    ]
    return {**patient, "link": [*links, {"other": {"reference": other}, "type": kind}]}


def _pointing(value: Any, old: str, new: str) -> Any:
    """``value`` with every Reference to ``old`` (relative or absolute) made ``new``."""
    if isinstance(value, dict):
        moved = {key: _pointing(item, old, new) for key, item in value.items()}
        reference = value.get("reference")
        if isinstance(reference, str) and (reference == old or reference.endswith(f"/{old}")):
            moved["reference"] = new
        return moved
    if isinstance(value, list):
        return [_pointing(item, old, new) for item in value]
    return value


def _put(resource: dict[str, Any]) -> dict[str, Any]:
    request = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    version = resource.get("meta", {}).get("versionId")
    if version:
        request["ifMatch"] = f'W/"{version}"'  # nobody changed it since it was read
    return {"resource": resource, "request": request}


def _pair_key(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return DuplicateSuspect(first, second, ()).key


def _duplicate_task(suspect: DuplicateSuspect) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "identifier": [{"system": VIGILANCE_SYSTEM, "value": suspect.key}],
        "status": "requested",
        "intent": "proposal",
        "priority": "routine",
        "code": {"coding": [DUPLICATE_CODE], "text": "Doublon potentiel"},
        "description": "Doublon potentiel à examiner par la cellule d'identitovigilance : "
        + ", ".join(suspect.reasons),
        "for": {"reference": f"Patient/{suspect.first}"},
        "focus": {"reference": f"Patient/{suspect.second}"},
        "authoredOn": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": [
            {
                "type": {"text": "Autre identité"},
                "valueReference": {"reference": f"Patient/{suspect.second}"},
            }
        ],
    }
