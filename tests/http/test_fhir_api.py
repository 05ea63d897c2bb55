"""The FHIR REST API as a client sees it: statuses, headers, OperationOutcomes, Bundles."""

from __future__ import annotations

import base64
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import backends

JSON = {"content-type": "application/fhir+json"}


def new_patient(client: TestClient, family: str = "Lefèvre") -> dict[str, Any]:
    response = client.post(
        "/fhir/Patient",
        json={"resourceType": "Patient", "name": [{"family": family, "given": ["Inès"]}]},
        headers=JSON,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@backends
def test_create_sets_location_etag_and_last_modified(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=JSON)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == (
        f"http://testserver/fhir/Patient/{body['id']}/_history/1"
    )
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["content-type"].startswith("application/fhir+json")
    read = client.get(f"/fhir/Patient/{body['id']}")
    assert read.status_code == 200 and read.json() == body


@backends
def test_prefer_return_minimal_and_operation_outcome(client: TestClient) -> None:
    minimal = client.post(
        "/fhir/Patient",
        json={"resourceType": "Patient"},
        headers={**JSON, "prefer": "return=minimal"},
    )
    assert minimal.status_code == 201 and minimal.content == b""
    assert "location" in minimal.headers
    outcome = client.post(
        "/fhir/Patient",
        json={"resourceType": "Patient"},
        headers={**JSON, "prefer": "return=OperationOutcome"},
    )
    assert outcome.json()["resourceType"] == "OperationOutcome"


@backends
def test_update_with_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    patient = new_patient(client)
    url = f"/fhir/Patient/{patient['id']}"
    ok = client.put(
        url, json={**patient, "gender": "female"}, headers={**JSON, "if-match": 'W/"1"'}
    )
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    stale = client.put(
        url, json={**patient, "gender": "male"}, headers={**JSON, "if-match": 'W/"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert client.get(url).json()["gender"] == "female"


@backends
def test_delete_then_read_is_410_and_history_keeps_every_version(client: TestClient) -> None:
    patient = new_patient(client)
    url = f"/fhir/Patient/{patient['id']}"
    client.put(url, json={**patient, "active": True}, headers=JSON)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 410
    history = client.get(f"{url}/_history").json()
    assert history["type"] == "history"
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT", "POST"]
    assert client.get(f"{url}/_history/1").json()["meta"]["versionId"] == "1"
    assert client.get(f"{url}/_history/3").status_code == 410
    assert client.get(f"{url}/_history/9").status_code == 404
    type_history = client.get("/fhir/Patient/_history?_count=2").json()
    assert len(type_history["entry"]) == 2
    assert any(link["relation"] == "next" for link in type_history["link"])


@backends
def test_bad_requests_get_precise_operation_outcomes(client: TestClient) -> None:
    cases = [
        (client.get("/fhir/Patientt/1"), 404, "not a FHIR R4 resource type"),
        (client.get("/fhir/Patient/nope"), 404, "Patient/nope"),
        (client.post("/fhir/Patient", content=b"{not json", headers=JSON), 400, "not valid JSON"),
        (
            client.post(
                "/fhir/Patient",
                content=b"<Patient/>",
                headers={"content-type": "application/fhir+xml"},
            ),
            415,
            "application/fhir+json",
        ),
        (
            client.post("/fhir/Patient", json={"resourceType": "Observation"}, headers=JSON),
            400,
            "Patient",
        ),
        (
            client.put(
                "/fhir/Patient/a", json={"resourceType": "Patient", "id": "b"}, headers=JSON
            ),
            400,
            "must equal the id in the URL",
        ),
        (
            client.put(
                "/fhir/Patient/a",
                json={"resourceType": "Patient", "id": "a"},
                headers={**JSON, "if-match": "banana"},
            ),
            400,
            "If-Match",
        ),
        (
            client.post("/fhir/Patient", content=b"x" * (64 * 1024 + 1), headers=JSON),
            413,
            "exceeds",
        ),
        (client.patch("/fhir/Patient/a", json={}), 405, ""),
    ]
    for response, status, words in cases:
        assert response.status_code == status, (status, response.text)
        if status != 405:
            outcome = response.json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert words in outcome["issue"][0]["diagnostics"]
    assert client.get("/fhir/Patient/_history").json()["entry"] == []  # nothing was stored


@backends
def test_binary_round_trips_raw_bytes(client: TestClient) -> None:
    pdf = b"%PDF-1.4\n% Hygie test\n" + bytes(range(256))
    created = client.post("/fhir/Binary", content=pdf, headers={"content-type": "application/pdf"})
    assert created.status_code == 201
    url = created.headers["location"].split("/_history")[0].removeprefix("http://testserver")
    raw = client.get(url, headers={"accept": "application/pdf"})
    assert raw.status_code == 200 and raw.content == pdf
    assert raw.headers["content-type"] == "application/pdf"
    as_fhir = client.get(url, headers={"accept": "application/fhir+json"}).json()
    assert base64.b64decode(as_fhir["data"]) == pdf and as_fhir["contentType"] == "application/pdf"


@backends
def test_conditional_create_matches_instead_of_duplicating(client: TestClient) -> None:
    body = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518989"}],
    }
    headers = {**JSON, "if-none-exist": "identifier=urn:oid:1.2.250.1.213.1.4.8|279035121518989"}
    first = client.post("/fhir/Patient", json=body, headers=headers)
    second = client.post("/fhir/Patient", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@backends
def test_transaction_rewrites_uuid_references_and_is_atomic(client: TestClient) -> None:
    patient_url = "urn:uuid:6f1c2a8e-3f5b-4c1e-9d2a-0b7e8c9d1a2b"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0c3a8f2e-1b4d-4e5f-8a9b-1c2d3e4f5a6b",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": patient_url},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "fullUrl": patient_url,
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }
    response = client.post("/fhir", json=bundle, headers=JSON)
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created", "201 Created"]
    obs_location = entries[0]["response"]["location"]
    patient_ref = entries[1]["response"]["location"].split("/_history")[0]
    observation = client.get(f"/fhir/{obs_location}").json()
    assert observation["subject"]["reference"] == patient_ref

    before = client.get("/fhir/_history").json()["entry"]
    bundle["entry"].append(
        {
            "resource": {"resourceType": "Patient", "birthDate": "hier"},
            "request": {"method": "POST", "url": "Patient"},
        }
    )
    failed = client.post("/fhir", json=bundle, headers=JSON)
    assert failed.status_code == 400
    assert "Bundle.entry[2]" in failed.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/_history").json()["entry"] == before


@backends
def test_batch_reports_each_entry(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {"resourceType": "Patient", "gender": "x"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        ],
    }
    response = client.post("/fhir", json=bundle, headers=JSON)
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["201 Created", "400", "404"]


@backends
def test_capability_statement_describes_the_server(client: TestClient) -> None:
    cs = client.get("/fhir/metadata").json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    by_type = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert "Observation" in by_type
    names = {p["name"] for p in by_type["Observation"]["searchParam"]}
    assert {"code", "patient", "date", "value-quantity"} <= names
