"""Document contents and messages at rest: a patient's first content in a transaction that
also creates the patient, and searches that meet an erased (crypto-shredded) patient."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from hygie.record.documents import DocumentError, document_content, find_documents
from tests.apptest import backend_headers
from tests.conftest import backends
from tests.record.conftest import PDF, Clinic
from tests.record.test_documents import discharge
from tests.record.test_mhd_http import provide
from tests.security.app.flows import ORIGIN


def message(patient: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "status": "completed",
        "subject": {"reference": patient},
        "sender": {"reference": "Practitioner/dr1"},
        "payload": [{"contentString": text}],
    }


@backends
def test_a_transaction_creating_a_patient_with_their_first_document_is_accepted(
    clinic: Clinic,
) -> None:
    patient_url = "urn:uuid:0c7b3d3e-2a51-4bb0-9bd4-6f0e9a1d2c11"
    bundle = provide(patient_url)
    bundle["entry"].insert(
        0,
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": "Nouveau", "given": ["Léon"]}],
                "managingOrganization": {"reference": "Organization/o1"},
            },
            "request": {"method": "POST", "url": "Patient"},
        },
    )
    bundle["entry"].append(
        {
            "resource": message(patient_url, "Bienvenue"),
            "request": {"method": "POST", "url": "Communication"},
        }
    )
    # An integrating system (a backend service with system scopes) sends it over HTTP.
    http = TestClient(clinic.app, base_url=ORIGIN, headers=backend_headers(clinic.app))
    response = http.post(
        "/fhir",
        content=orjson.dumps(bundle),
        headers={"content-type": "application/fhir+json", "prefer": "return=representation"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    patient = answer["entry"][0]["resource"]["id"]
    binary = answer["entry"][3]["resource"]
    assert binary["data"]  # answered in clear
    for rtype, rid in (
        ("Binary", binary["id"]),
        ("Communication", answer["entry"][4]["resource"]["id"]),
    ):
        raw = clinic.raw(rtype, rid)
        assert PDF not in raw and b"Bienvenue" not in raw
        assert f'"valueString":"Patient/{patient}"'.encode() in raw  # the new patient's key
    [document] = find_documents(clinic.fhir("dr1"), patient)
    assert document_content(clinic.fhir("dr1"), document.id)[0] == PDF


@backends
def test_a_search_leaves_out_only_the_erased_patients_messages(clinic: Clinic) -> None:
    dr1 = clinic.fhir("dr1")
    kept = dr1.create(message("Patient/p2", "Résultats normaux"))
    dr1.create(message("Patient/p1", "Biopsie positive"))
    shared = discharge(clinic)
    assert clinic.app.state.security.keyring.erase_patient_key("Patient/p1")

    response = clinic.browser("dr1").get("/fhir/Communication")
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert [e["resource"]["id"] for e in entries] == [kept["id"]]
    assert b"Biopsie" not in response.content
    history = clinic.browser("dr1").get("/fhir/Communication/_history")
    assert history.status_code == 200, history.text
    assert [e["resource"]["id"] for e in history.json()["entry"]] == [kept["id"]]
    # The erased patient's document is still listed (its metadata is not sealed) but its
    # content is gone.
    assert [d.id for d in find_documents(clinic.fhir("dr1"), "p1")] == [shared.id]
    with pytest.raises(DocumentError, match="effacé"):
        document_content(clinic.fhir("dr1"), shared.id)
    assert orjson.loads(clinic.raw("Binary", str(shared.binary_id)))["_data"]
