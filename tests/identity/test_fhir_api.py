"""The FHIR API refuses a Patient whose INS is wrong or contradicts its traits: 422, an
OperationOutcome naming the problem and where, and nothing stored."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from hygie.identity.ins import NIA_SYSTEM, NIR_SYSTEM
from hygie.identity.patient import birth_place_extension
from tests.conftest import backends

JSON = {"content-type": "application/fhir+json"}
ALICE = "284057505608924"  # woman, May 1984, Paris (75056)


def alice(ins: str = ALICE, system: str = NIR_SYSTEM, **changes: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [
            {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "IPP-0042"},
            {"system": system, "value": ins},
        ],
        "name": [{"use": "official", "family": "Martin", "given": ["Alice"]}],
        "gender": "female",
        "birthDate": "1984-05-12",
        "extension": [birth_place_extension("75056", "Paris")],
        **changes,
    }


def issues(response: Any) -> list[tuple[str, str, list[str]]]:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return [(i["code"], i["diagnostics"], i.get("expression", [])) for i in outcome["issue"]]


def stored_patients(client: TestClient) -> int:
    found = client.get("/fhir/Patient", params={"_summary": "count"}).json()
    return int(found["total"])


@backends
def test_a_valid_ins_matching_its_traits_is_stored(client: TestClient) -> None:
    created = client.post("/fhir/Patient", json=alice(), headers=JSON)
    assert created.status_code == 201, created.text
    assert stored_patients(client) == 1


@backends
def test_a_wrong_key_is_a_422_at_the_identifier(client: TestClient) -> None:
    refused = client.post("/fhir/Patient", json=alice(ins=ALICE[:13] + "25"), headers=JSON)
    assert refused.status_code == 422
    assert issues(refused) == [
        (
            "value",
            "INS refusé : la clé 25 ne correspond pas au numéro (clé attendue : 24) : "
            "un caractère a sans doute été mal saisi",
            ["Patient.identifier[1].value"],
        )
    ]
    assert stored_patients(client) == 0


def test_a_waiting_number_needs_the_nia_oid(client: TestClient) -> None:
    temporary = "784057505608965"  # a waiting number: first digit 7
    refused = client.post("/fhir/Patient", json=alice(ins=temporary), headers=JSON)
    assert refused.status_code == 422
    assert "numéro d'attente (NIA)" in issues(refused)[0][1]
    # As a NIA it is well formed; its sex digit (7: a man) still contradicts the woman.
    as_nia = client.post(
        "/fhir/Patient", json=alice(ins=temporary, system=NIA_SYSTEM), headers=JSON
    )
    assert as_nia.status_code == 422
    [(code, message, where)] = issues(as_nia)
    assert code == "business-rule" and "désigne un(e) homme" in message
    assert where == ["Patient.identifier[1]", "Patient.gender"]


@backends
def test_an_update_contradicting_the_traits_is_refused_and_the_record_unchanged(
    client: TestClient,
) -> None:
    created = client.post("/fhir/Patient", json=alice(), headers=JSON).json()
    moved = {**created, "birthDate": "1984-06-12", "gender": "male"}
    refused = client.put(f"/fhir/Patient/{created['id']}", json=moved, headers=JSON)
    assert refused.status_code == 422
    assert [(code, where) for code, _, where in issues(refused)] == [
        ("business-rule", ["Patient.identifier[1]", "Patient.gender"]),
        ("business-rule", ["Patient.identifier[1]", "Patient.birthDate"]),
    ]
    current = client.get(f"/fhir/Patient/{created['id']}").json()
    assert current["meta"]["versionId"] == "1" and current["gender"] == "female"


def test_birth_place_and_letters(client: TestClient) -> None:
    elsewhere = alice(extension=[birth_place_extension("69383", "Lyon")])
    refused = client.post("/fhir/Patient", json=elsewhere, headers=JSON)
    assert refused.status_code == 422
    [(_, message, where)] = issues(refused)
    assert "la commune de naissance de l'INS (code 75056)" in message
    assert where == ["Patient.identifier[1]", "Patient.extension[0]"]
    lettered = client.post("/fhir/Patient", json=alice(ins="2840575O5608924"), headers=JSON)
    assert lettered.status_code == 422 and "« O » en position 8" in issues(lettered)[0][1]


def test_partial_traits_are_judged_on_what_is_given(client: TestClient) -> None:
    bare = {"resourceType": "Patient", "identifier": [{"system": NIR_SYSTEM, "value": ALICE}]}
    assert client.post("/fhir/Patient", json=bare, headers=JSON).status_code == 201
    born_1984 = {**bare, "birthDate": "1984"}
    assert client.post("/fhir/Patient", json=born_1984, headers=JSON).status_code == 201
    born_1985 = {**bare, "birthDate": "1985"}
    assert client.post("/fhir/Patient", json=born_1985, headers=JSON).status_code == 422


@backends
def test_a_transaction_with_a_wrong_ins_stores_nothing(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": alice(), "request": {"method": "POST", "url": "Patient"}},
            {
                "resource": alice(ins=ALICE[:13] + "42"),
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }
    refused = client.post("/fhir", json=bundle, headers=JSON)
    assert refused.status_code == 422, refused.text
    assert any("la clé 42" in message for _, message, _ in issues(refused))
    assert stored_patients(client) == 0
