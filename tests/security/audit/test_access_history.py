"""The access history routes as a patient and a security officer use them, on both backends."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from hygie.db.engine import Database
from hygie.security.audit import Actor, ActorKind, AuditEntry, AuditLog, Outcome, load_signer
from hygie.security.audit.api import LEAF_EXTENSION, access_history_router, audit_router
from hygie.security.audit.merkle import verify_inclusion
from hygie.security.audit.sink import AuditSink
from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext
from hygie.security.scopes import parse_scopes
from tests.conftest import backends
from tests.security.test_audit_helpers import T0, entry

HISTORY = "/api/audit/mes-acces"


def context(principal: Principal, scopes: str = "", aal: Aal = Aal.TWO) -> RequestContext:
    return RequestContext(
        principal=principal,
        aal=aal,
        auth_time=0,
        network_zone="internet",
        client_id="hygie-web",
        scopes=parse_scopes(scopes),
    )


ALICE = context(
    Principal(PrincipalKind.PATIENT, "acct-alice", "Alice", fhir_ref="Patient/p1"),
    "patient/*.cruds",
)
BOB = context(
    Principal(PrincipalKind.PATIENT, "acct-bob", "Bob", fhir_ref="Patient/p2"), "patient/*.cruds"
)
OFFICER = context(
    Principal(PrincipalKind.ADMIN, "acct-so", "Sophie", roles=frozenset({"security-officer"}))
)


class Caller:
    """Who the test client is: the ``context_of`` the app gets (None: not signed in)."""

    def __init__(self) -> None:
        self.ctx: RequestContext | None = None

    def __call__(self, request: Request) -> RequestContext:
        if self.ctx is None:
            raise HTTPException(401, "sign in")
        return self.ctx


@pytest.fixture
def log(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


@pytest.fixture
def caller() -> Caller:
    return Caller()


@pytest.fixture
def http(database: Database, log: AuditLog, caller: Caller) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(audit_router(log))
    app.include_router(access_history_router(log, database, caller, clock=lambda: 1.8e9))
    with TestClient(app) as client:
        yield client


def break_glass(n: int) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(seconds=n),
        actor=Actor(ActorKind.PRACTITIONER, "Practitioner/dr-urgence", "Dr Paul Urgence"),
        action="fhir.read",
        outcome=Outcome.PERMIT,
        resource="Patient/p1",
        patient="Patient/p1",
        client_id="hygie-web",
        purpose_of_use="ETREAT",
        break_glass=True,
        reason="Patient inconscient aux urgences",
    )


def fill(log: AuditLog) -> None:
    """Indexes 0-11: p1 at even indexes (10 is a break-the-glass), p2 at odd ones."""
    log.append_many(
        [
            break_glass(n) if n == 10 else entry(n, patient=f"Patient/p{1 + n % 2}")
            for n in range(12)
        ]
    )


def history(http: TestClient, **params: Any) -> Any:
    response = http.get(HISTORY, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@backends
def test_a_patient_pages_through_their_own_accesses_and_proves_each_one(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    caller.ctx = ALICE
    seen: list[dict[str, Any]] = []
    page = history(http, _count=4)
    while True:
        seen.extend(page["entries"])
        if page["next_cursor"] is None:
            break
        page = history(http, _count=4, _cursor=page["next_cursor"])
    assert [e["index"] for e in seen] == [10, 8, 6, 4, 2, 0]
    assert {e["patient"] for e in seen} == {"Patient/p1"}

    urgent = seen[0]
    assert urgent == {
        "index": 10,
        "recorded": "2026-11-28T09:30:10.000000Z",
        "action": "fhir.read",
        "outcome": "permit",
        "actor": {
            "kind": "practitioner",
            "id": "Practitioner/dr-urgence",
            "display": "Dr Paul Urgence",
        },
        "client_id": "hygie-web",
        "resource": "Patient/p1",
        "patient": "Patient/p1",
        "purpose_of_use": "ETREAT",
        "break_glass": True,
        "reason": "Patient inconscient aux urgences",
        "leaf": urgent["leaf"],
    }
    # What the patient's page does: check each entry against the signed tree head.
    sth = http.get("/api/audit/sth").json()
    root = base64.b64decode(sth["sha256_root_hash"])
    for shown in seen:
        leaf = base64.b64decode(shown["leaf"])
        proof = http.get(
            "/api/audit/proof/inclusion",
            params={"index": shown["index"], "tree_size": sth["tree_size"]},
        ).json()
        path = [base64.b64decode(node) for node in proof["inclusion_path"]]
        leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()
        assert verify_inclusion(leaf_hash, shown["index"], sth["tree_size"], path, root)
    assert log.tree_head().tree_size == 12  # reading one's own trail is not itself logged


@backends
def test_another_patients_accesses_are_never_shown(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    caller.ctx = BOB
    assert [e["index"] for e in history(http)["entries"]] == [11, 9, 7, 5, 3, 1]
    for path in (HISTORY, "/fhir/AuditEvent"):
        response = http.get(path, params={"patient": "Patient/p1"})
        assert response.status_code == 403
        assert "Patient/p1" not in response.text and "dr-" not in response.text
    assert http.get(HISTORY, params={"patient": "Patient/p1"}).json() == {
        "error": "a patient may only read the accesses to their own record"
    }
    assert log.tree_head().tree_size == 12


@backends
def test_who_may_not_read_the_audit_log_is_refused(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    refused = {
        "physician": context(
            Principal(
                PrincipalKind.PRACTITIONER,
                "acct-dr",
                "Dr Martin",
                fhir_ref="Practitioner/dr-martin",
                roles=frozenset({"physician"}),
            ),
            "user/*.cruds",
        ),
        "it admin": context(
            Principal(PrincipalKind.ADMIN, "acct-it", "Ines", roles=frozenset({"it-admin"}))
        ),
        "officer role on a client": context(
            Principal(PrincipalKind.CLIENT, "svc", roles=frozenset({"security-officer"}))
        ),
        "patient, one factor": replace(ALICE, aal=Aal.ONE),
        "officer, one factor": replace(OFFICER, aal=Aal.ONE),
        "patient app without AuditEvent scope": replace(
            ALICE, scopes=parse_scopes("patient/Observation.rs")
        ),
        "patient account without record": context(
            Principal(PrincipalKind.PATIENT, "acct-new", "Nouveau"), "patient/*.cruds"
        ),
    }
    for name, ctx in refused.items():
        caller.ctx = ctx
        for path in (HISTORY, "/fhir/AuditEvent"):
            response = http.get(path)
            assert response.status_code == 403, name
            assert "entries" not in response.json() and "entry" not in response.json(), name
    caller.ctx = None
    assert http.get(HISTORY).status_code == 401
    assert log.tree_head().tree_size == 12  # nothing read, nothing logged


@backends
def test_bad_parameters_get_a_precise_400_and_read_nothing(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    caller.ctx = OFFICER
    bad = [
        ({"_count": "0"}, "_count must be an integer from 1 to 200, got '0'"),
        ({"_count": "201"}, "_count must be an integer from 1 to 200, got '201'"),
        ({"_count": "dix"}, "_count must be an integer from 1 to 200, got 'dix'"),
        ({"_cursor": "-1"}, "_cursor must be an integer of at least 0, got '-1'"),
        ({"patient": "Observation/1"}, "patient must be a reference Patient/<id>"),
        ({"date": "2026-13-01"}, "date '2026-13-01' is not a valid date"),
        ({"date": "ge2026-11-28T09:30:00"}, "date must be [eq|ge|gt|le|lt]YYYY-MM-DD"),
        ({"date": "after2026-11-28"}, "date must be [eq|ge|gt|le|lt]YYYY-MM-DD"),
        ({"page": "2"}, "unknown parameter 'page'"),
        ([("_count", "2"), ("_count", "3")], "parameter '_count' given more than once"),
    ]
    for params, message in bad:
        response = http.get(HISTORY, params=params)
        assert response.status_code == 400, params
        assert response.json()["error"].startswith(message), response.json()
        fhir = http.get("/fhir/AuditEvent", params=params)
        assert fhir.status_code == 400
        assert fhir.json()["issue"][0]["code"] == "invalid"
    assert log.tree_head().tree_size == 12  # refused before reading: no officer read logged


@backends
def test_date_filters_select_the_instants_asked_for(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)  # entries n at 09:30:00 + n seconds on 2026-11-28 (UTC)
    caller.ctx = ALICE

    def indexes(*dates: str) -> list[int]:
        response = http.get(HISTORY, params=[("date", date) for date in dates])
        assert response.status_code == 200, response.text
        return [e["index"] for e in response.json()["entries"]]

    assert indexes("2026-11-28") == [10, 8, 6, 4, 2, 0]
    assert indexes("2026-11-27") == indexes("ge2026-11-29") == []
    assert indexes("ge2026-11-28T09:30:04Z", "lt2026-11-28T09:30:10Z") == [8, 6, 4]
    assert indexes("gt2026-11-28T09:30:04Z", "le2026-11-28T09:30:10Z") == [10, 8, 6]
    assert indexes("ge2026-11-28T10:30:06+01:00") == [10, 8, 6]
    assert indexes("lt2026-11-28", "le2026-11-28") == []


@backends
def test_an_officer_reads_any_trail_and_that_read_is_logged_for_the_patient(
    database: Database, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    with AuditSink(log) as sink:
        app = FastAPI()
        app.include_router(
            access_history_router(log, database, caller, sink=sink, clock=lambda: 1.8e9)
        )
        with TestClient(app) as http:
            caller.ctx = OFFICER
            assert [e["index"] for e in history(http, _count=3)["entries"]] == [11, 10, 9]
            assert [e["index"] for e in history(http, patient="Patient/p2")["entries"]] == [
                11,
                9,
                7,
                5,
                3,
                1,
            ]
            assert log.tree_head().tree_size == 14
            everyone, about_bob = log.entry(12), log.entry(13)
            assert (everyone.action, everyone.patient) == ("admin.audit.read", None)
            assert about_bob.actor == Actor(ActorKind.USER, "acct-so", "Sophie")
            assert (about_bob.outcome, about_bob.patient) == (Outcome.SUCCESS, "Patient/p2")

            caller.ctx = BOB
            mine = history(http)["entries"]
            assert (mine[0]["index"], mine[0]["action"]) == (13, "admin.audit.read")
            assert mine[0]["actor"]["display"] == "Sophie"
            assert log.tree_head().tree_size == 14


@backends
def test_the_fhir_search_returns_balp_audit_events_with_their_leaves(
    http: TestClient, log: AuditLog, caller: Caller
) -> None:
    fill(log)
    caller.ctx = ALICE
    response = http.get("/fhir/AuditEvent", params={"patient": "Patient/p1", "_count": 5})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    bundle = response.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    events = [item["resource"] for item in bundle["entry"]]
    assert [event["id"] for event in events] == [f"audit-{n}" for n in (10, 8, 6, 4, 2)]
    urgent = events[0]
    assert urgent["outcomeDesc"] == "Patient inconscient aux urgences"
    assert {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
        "code": "BTG",
        "display": "break the glass",
    } in [p["coding"][0] for p in urgent["purposeOfEvent"]]
    leaf = next(x for x in urgent["extension"] if x["url"] == LEAF_EXTENSION)
    assert base64.b64decode(leaf["valueBase64Binary"]).startswith(b'{"action":"fhir.read"')
    following = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    rest = http.get(following).json()
    assert [item["resource"]["id"] for item in rest["entry"]] == ["audit-0"]
    assert not any(link["relation"] == "next" for link in rest["link"])
