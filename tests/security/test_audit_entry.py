"""Audit entries: validation, canonical leaf bytes, and the FHIR AuditEvent (IHE BALP) shape."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from hygie.fhir.validation import validate
from hygie.security.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    InvalidEntry,
    Outcome,
    from_leaf,
    to_audit_event,
    to_leaf,
)
from tests.security.test_audit_helpers import T0, entry


def test_the_leaf_is_sorted_key_json_and_reads_back() -> None:
    leaf = to_leaf(entry(1), 7)
    document = orjson.loads(leaf)
    assert list(document) == sorted(document)
    assert document["time"] == "2026-11-28T09:30:01.000000Z"
    assert document["index"] == 7
    assert from_leaf(leaf) == (7, entry(1))


def test_the_same_moment_in_another_timezone_gives_the_same_leaf() -> None:
    paris = entry(1).time.astimezone(timezone(timedelta(hours=1)))
    assert to_leaf(replace(entry(1), time=paris), 0) == to_leaf(entry(1), 0)


@pytest.mark.parametrize(
    "leaf",
    [
        b"not json",
        b"[]",
        b'{"v": 2}',
        to_leaf(entry(1), 0).replace(b'"index":0', b'"index":"0"'),
        to_leaf(entry(1), 0).replace(b"{", b"{ ", 1),  # valid JSON, not canonical
        to_leaf(entry(1), 0).replace(b"fhir.read", b"mail.read"),
    ],
)
def test_non_canonical_or_foreign_leaves_are_refused(leaf: bytes) -> None:
    with pytest.raises(InvalidEntry):
        from_leaf(leaf)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"time": datetime(2026, 1, 1)}, "timezone-aware"),
        ({"action": "read"}, "family.verb"),
        ({"action": "shell.exec"}, "family.verb"),
        ({"outcome": "maybe"}, "outcome"),
        ({"resource": "Observation/a b"}, "Type/id"),
        ({"patient": "Practitioner/1"}, "must reference a Patient"),
        ({"client_id": "app\nforged line"}, "client_id"),
        ({"break_glass": "yes"}, "true or false"),
        ({"reason": "x" * 1001}, "at most 1000"),
    ],
)
def test_bad_entries_are_refused_with_the_field_named(
    change: dict[str, object], words: str
) -> None:
    base = entry(1)
    fields = {name: getattr(base, name) for name in base.__slots__}
    with pytest.raises(InvalidEntry, match=words):
        AuditEntry(**{**fields, **change})


def test_an_actor_of_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="robot"):
        Actor("robot", "r2")  # type: ignore[arg-type]


def test_a_fhir_read_is_a_balp_rest_event_with_patient_entity() -> None:
    event = validate(to_audit_event(replace(entry(3), break_glass=True), 12))
    assert event["id"] == "audit-12"
    assert event["type"]["code"] == "rest"
    assert event["subtype"] == [
        {"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}
    ]
    assert (event["action"], event["outcome"], event["recorded"]) == (
        "R",
        "0",
        "2026-11-28T09:30:03.000000Z",
    )
    requestor = event["agent"][0]
    assert requestor["requestor"] is True
    assert requestor["who"] == {
        "reference": "Practitioner/dr-martin",
        "display": "Dr Claire Martin",
    }
    assert requestor["policy"] == ["urn:hygie:policy:clinician-reads-own-patients"]
    assert event["agent"][1]["who"]["identifier"]["value"] == "hygie-web"
    entities = {e["what"]["reference"]: e for e in event["entity"]}
    assert entities["Observation/obs-3"]["type"]["code"] == "2"
    assert entities["Patient/p1"]["role"]["code"] == "1"
    assert entities["Patient/p1"]["role"]["display"] == "Patient"
    reasons = [c["coding"][0]["code"] for c in event["purposeOfEvent"]]
    assert reasons == ["TREAT", "BTG"]


@pytest.mark.parametrize(
    ("action", "outcome", "type_code", "subtype_code", "fhir_outcome"),
    [
        ("fhir.search-type", Outcome.DENY, "rest", "search-type", "4"),
        ("fhir.create", Outcome.PERMIT, "rest", "create", "0"),
        ("auth.signin", Outcome.FAILURE, "110114", "110122", "4"),
        ("auth.signout", Outcome.SUCCESS, "110114", "110123", "0"),
        ("token.issue", Outcome.SUCCESS, "110114", "ITI-71", "0"),
        ("consent.change", Outcome.SUCCESS, "rest", "update", "0"),
        ("admin.user.lock", Outcome.SUCCESS, "110113", "110129", "0"),
    ],
)
def test_every_action_family_gives_a_valid_audit_event(
    action: str, outcome: Outcome, type_code: str, subtype_code: str, fhir_outcome: str
) -> None:
    record = AuditEntry(
        time=T0,
        actor=Actor(ActorKind.USER, "account-42", ""),
        action=action,
        outcome=outcome,
        patient="Patient/p1" if action != "admin.user.lock" else None,
        reason="wrong password" if outcome is Outcome.FAILURE else None,
    )
    event = validate(to_audit_event(record, 0))
    assert event["type"]["code"] == type_code
    assert event["subtype"][0]["code"] == subtype_code
    assert event["outcome"] == fhir_outcome
    assert event["agent"][0]["who"] == {
        "identifier": {"system": "urn:hygie:actor:user", "value": "account-42"}
    }
    if outcome is Outcome.FAILURE:
        assert event["outcomeDesc"] == "wrong password"
