"""The identity office on the demo hospital: the likely duplicate is found and flagged once,
the merge keeps history and moves the record, and proofs move a status up (RNIV)."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

from hygie.demo import DEMO_SYSTEM, demo_insi, load_demo
from hygie.http.caller_fhir import FhirCallError, FhirClient, caller_fhir
from hygie.identity.ins import NIR_SYSTEM
from hygie.identity.qualification import (
    InsiNoMatch,
    record_document_check,
    record_insi_match,
)
from hygie.identity.status import IdentityStatus, IdentityStatusError, identity_status
from hygie.identity.vigilance import (
    MergeError,
    duplicate_tasks,
    find_duplicates,
    flag_duplicates,
    merge_patients,
)
from hygie.security.context import PrincipalKind
from tests.apptest import BASE, sign_in
from tests.conftest import backends


@pytest.fixture
def demo(app: FastAPI, office: FhirClient) -> FhirClient:
    load_demo(app.state.store)
    return office


def demo_id(fhir: FhirClient, key: str) -> str:
    [patient] = fhir.search_resources("Patient", [("identifier", f"{DEMO_SYSTEM}|{key}")])
    return str(patient["id"])


@backends
def test_the_demo_duplicate_is_found_flagged_once_and_merged(demo: FhirClient) -> None:
    kept, replaced = demo_id(demo, "patient-12"), demo_id(demo, "patient-24")
    [suspect] = find_duplicates(demo)
    assert {suspect.first, suspect.second} == {kept, replaced}
    assert suspect.reasons[0].startswith("noms de naissance proches")
    assert "Lefèvre" in suspect.reasons[0] and "LEFEBVRE" in suspect.reasons[0]
    assert flag_duplicates(demo, [suspect]) == 1
    assert flag_duplicates(demo, [suspect]) == 0  # already with the office
    [task] = duplicate_tasks(demo)
    assert task["code"]["coding"][0]["code"] == "DPOT"
    assert "Lefèvre" in task["description"] and "LEFEBVRE" in task["description"]
    # Something recorded on the emergency-desk identity before the merge.
    weight = demo.create(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "Poids"},
            "subject": {"reference": f"Patient/{replaced}"},
            "valueQuantity": {"value": 61, "unit": "kg"},
        }
    )

    result = merge_patients(demo, replaced, kept)

    assert (result.kept, result.replaced, result.moved) == (kept, replaced, 1)
    old = demo.read("Patient", replaced)
    assert old["active"] is False
    assert old["link"] == [{"other": {"reference": f"Patient/{kept}"}, "type": "replaced-by"}]
    new = demo.read("Patient", kept)
    assert {"other": {"reference": f"Patient/{replaced}"}, "type": "replaces"} in new["link"]
    moved = demo.read("Observation", weight["id"])
    assert moved["subject"] == {"reference": f"Patient/{kept}"}
    first = demo.call("GET", f"Observation/{weight['id']}/_history/1")
    assert f"Patient/{replaced}".encode() in first.body  # the history keeps who it was
    assert duplicate_tasks(demo) == []
    assert find_duplicates(demo) == []
    with pytest.raises(MergeError, match="déjà fusionnée"):
        merge_patients(demo, replaced, kept)


def test_two_ins_are_two_persons(demo: FhirClient) -> None:
    with pytest.raises(MergeError, match="INS différents"):
        merge_patients(demo, demo_id(demo, "patient-1"), demo_id(demo, "patient-2"))
    with pytest.raises(MergeError, match="elle-même"):
        merge_patients(demo, demo_id(demo, "patient-1"), demo_id(demo, "patient-1"))


@backends
def test_insi_then_document_qualify_an_identity(demo: FhirClient) -> None:
    insi = demo_insi()
    validated = demo_id(demo, "patient-5")  # document checked, INSi not called yet
    before = demo.read("Patient", validated)
    assert identity_status(before) is IdentityStatus.VALIDEE
    assert not any(i["system"] == NIR_SYSTEM for i in before["identifier"])
    assert record_insi_match(demo, validated, insi) is IdentityStatus.QUALIFIEE
    after = demo.read("Patient", validated)
    assert identity_status(after) is IdentityStatus.QUALIFIEE
    assert after["identifier"][0]["system"] == NIR_SYSTEM

    provisional = demo_id(demo, "patient-11")
    assert record_document_check(demo, provisional, "PA", checked_on=date(2026, 11, 2)) is (
        IdentityStatus.VALIDEE
    )
    assert record_insi_match(demo, provisional, insi) is IdentityStatus.QUALIFIEE


def test_insi_without_a_match_changes_nothing(demo: FhirClient) -> None:
    duplicate = demo_id(demo, "patient-24")  # no birth place recorded: not all five traits
    with pytest.raises(IdentityStatusError, match="cinq traits"):
        record_insi_match(demo, duplicate, demo_insi())
    provisional = demo_id(demo, "patient-11")
    patient = demo.read("Patient", provisional)
    demo.update({**patient, "birthDate": "1971-11-11"})  # a typing error at the desk
    with pytest.raises(InsiNoMatch, match="aucune identité unique"):
        record_insi_match(demo, provisional, demo_insi())
    unchanged = demo.read("Patient", provisional)
    assert identity_status(unchanged) is IdentityStatus.PROVISOIRE
    assert unchanged["meta"]["versionId"] == "2"


def test_a_merge_runs_as_the_caller_and_the_pep_decides(app: FastAPI, demo: FhirClient) -> None:
    kept, replaced = demo_id(demo, "patient-12"), demo_id(demo, "patient-24")

    async def merge_as_caller(request: Request) -> JSONResponse:
        async with caller_fhir(request) as fhir:
            try:
                await run_in_threadpool(merge_patients, fhir, replaced, kept)
            except FhirCallError as refused:
                return JSONResponse({"status": refused.status})
        return JSONResponse({"status": 200})

    app.add_route("/espace/sonde-fusion", merge_as_caller, methods=["GET"])
    patient = TestClient(app, base_url=BASE)
    sign_in(patient, PrincipalKind.PATIENT, username="isabelle", fhir_ref=f"Patient/{kept}")
    answer = patient.get("/espace/sonde-fusion")
    # She may read her own record, not the other one: the PEP stops the merge there.
    assert answer.status_code == 200 and answer.json() == {"status": 404}
    assert demo.read("Patient", replaced)["active"] is True
    assert "link" not in demo.read("Patient", kept)
