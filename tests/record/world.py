"""A small hospital for the record tests, run as the whole app, and a way to call the
record's service functions as a signed-in person (through ``caller_fhir``, the enforcement
point and the audit log, as a page of the patient space would).

CHU Une (o1) manages Alice (p1); Cabinet Deux (o2) manages Bruno (p2). Dr Claire Rousseau
(dr1, cardiologist) and Dr Marc Lambert (dr3, surgeon) work at o1 and care for Alice; Dr
Karim Benali (dr2) works at o2. doc-a is Alice's discharge summary written by dr3.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from hygie.db.engine import Database
from hygie.fhir.access import SystemAccess
from hygie.http.caller_fhir import FhirClient, caller_fhir
from tests.security.app.conftest import Hospital
from tests.security.app.conftest import open_hospital as security_hospital

T = TypeVar("T")
PROBE = "/espace/sonde-dossier"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def ref(value: str) -> dict[str, str]:
    return {"reference": value}


def _practitioner(pid: str, given: str, family: str) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "name": [{"family": family, "given": [given], "prefix": ["Dr"]}],
    }


def _role(rid: str, practitioner: str, organisation: str, profession: str) -> dict[str, Any]:
    return {
        "resourceType": "PractitionerRole",
        "id": rid,
        "practitioner": ref(practitioner),
        "organization": ref(organisation),
        "code": [{"text": profession}],
    }


HOSPITAL: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "o1", "name": "CHU Une"},
    {"resourceType": "Organization", "id": "o2", "name": "Cabinet Deux"},
    _practitioner("dr1", "Claire", "Rousseau"),
    _practitioner("dr2", "Karim", "Benali"),
    _practitioner("dr3", "Marc", "Lambert"),
    _role("role-dr1", "Practitioner/dr1", "Organization/o1", "Cardiologue"),
    _role("role-dr2", "Practitioner/dr2", "Organization/o2", "Médecin généraliste"),
    _role("role-dr3", "Practitioner/dr3", "Organization/o1", "Chirurgien viscéral"),
    {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"family": "Martin", "given": ["Alice"]}],
        "managingOrganization": ref("Organization/o1"),
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "name": [{"family": "Durand", "given": ["Bruno"]}],
        "managingOrganization": ref("Organization/o2"),
    },
    {
        "resourceType": "DocumentReference",
        "id": "doc-a",
        "status": "current",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": "18842-5"}],
            "text": "Lettre de liaison de sortie",
        },
        "subject": ref("Patient/p1"),
        "author": [ref("Practitioner/dr3")],
        "date": "2026-10-02T10:00:00+02:00",
        "description": "Compte rendu d'hospitalisation",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": "Binary/bin-a",
                    "title": "Compte rendu de sortie",
                }
            }
        ],
    },
    {
        "resourceType": "Binary",
        "id": "bin-a",
        "contentType": "application/pdf",
        "securityContext": ref("DocumentReference/doc-a"),
        "data": base64.b64encode(PDF).decode(),
    },
]


def open_hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    """The app over ``database`` with the hospital loaded and the probe route mounted."""
    yield from security_hospital(database, tmp_path, HOSPITAL, _mount_probe)


def _mount_probe(app: FastAPI) -> None:
    async def probe(request: Request) -> Response:
        call = request.app.state.record_probe
        async with caller_fhir(request) as fhir:
            request.app.state.record_probe_result = await run_in_threadpool(call, fhir)
        return Response(status_code=204)

    async def probe_request(request: Request) -> Response:
        call = request.app.state.record_probe
        request.app.state.record_probe_result = await run_in_threadpool(call, request)
        return Response(status_code=204)

    app.add_route(PROBE, probe, methods=["GET"])
    app.add_route(PROBE + "-requete", probe_request, methods=["GET"])


def as_caller(browser: TestClient, call: Callable[[FhirClient], T]) -> T:
    """Run ``call`` with the FhirClient of the browser's signed-in person; what it raises
    comes back raised (the test client re-raises server errors)."""
    app = browser.app
    app.state.record_probe = call  # type: ignore[attr-defined]
    answer = browser.get(PROBE)
    assert answer.status_code == 204, answer.text
    result: T = app.state.record_probe_result  # type: ignore[attr-defined]
    return result


def as_request(browser: TestClient, call: Callable[[Request], T]) -> T:
    """Run ``call`` with the request of the browser's signed-in person (for what is not
    FHIR: the audit log)."""
    app = browser.app
    app.state.record_probe = call  # type: ignore[attr-defined]
    answer = browser.get(PROBE + "-requete")
    assert answer.status_code == 204, answer.text
    result: T = app.state.record_probe_result  # type: ignore[attr-defined]
    return result


def system_fhir(hospital: Hospital) -> FhirClient:
    """Hygie's own view (the test's oracle), never the code under test's."""
    return FhirClient(hospital.app.state.fhir_router, SystemAccess(reason="tests: oracle"))
