"""Domain routes reach health data as the signed-in caller (hygie.http.caller_fhir): the
enforcement point decides and the accesses are in the audit log when the route answers."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from hygie.http.caller_fhir import FhirCallError, FhirClient, caller_fhir
from tests.conftest import backends
from tests.security.app.conftest import Hospital


def what_the_caller_gets(fhir: FhirClient) -> dict[str, Any]:
    observations = [o["id"] for o in fhir.search_resources("Observation", [("_count", "50")])]
    try:
        fhir.read("Patient", "p2")
        other = 200
    except FhirCallError as refused:
        other = refused.status
    return {"observations": sorted(observations), "other_patient": other}


def mount_probe(hospital: Hospital) -> None:
    async def probe(request: Request) -> JSONResponse:
        async with caller_fhir(request) as fhir:
            found = await run_in_threadpool(what_the_caller_gets, fhir)
        return JSONResponse(found)

    hospital.app.add_route("/espace/sonde", probe, methods=["GET"])


def accesses_of(hospital: Hospital, actor_id: str) -> list[tuple[str, str, str]]:
    log = hospital.security.audit_log
    entries = (log.entry(i) for i in range(log.tree_head().tree_size))
    return [
        (e.action, e.resource or "", e.outcome.value) for e in entries if e.actor.id == actor_id
    ]


@backends
def test_a_patient_route_sees_only_her_compartment_and_is_audited(hospital: Hospital) -> None:
    mount_probe(hospital)
    alice, _ = hospital.patient_alice()
    answer = alice.get("/espace/sonde")
    assert answer.status_code == 200, answer.text
    # Another patient's record is not even said to exist.
    assert answer.json() == {"observations": ["obs-p1"], "other_patient": 404}
    audited = accesses_of(hospital, "Patient/p1")
    assert ("fhir.read", "Patient/p2", "deny") in audited
    assert any(action == "fhir.search" for action, _, _ in audited)


@backends
def test_without_a_session_the_route_is_not_reached(hospital: Hospital) -> None:
    mount_probe(hospital)
    assert hospital.client().get("/espace/sonde", follow_redirects=False).status_code in (
        303,
        401,
    )
