"""Message bodies (Communication.payload) are encrypted at rest under the key of the patient
the message is about; the index never sees them; erasure makes them unreadable."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from sqlalchemy import select

from hygie.db.engine import Database
from hygie.db.schema import INDEX_TABLES, fhir_history, fhir_resource
from hygie.fhir.access import SystemAccess
from hygie.fhir.http_types import FhirRequest
from hygie.security.breakglass_api import notify_patient
from hygie.security.crypto import Keyring
from hygie.security.policy import BreakGlassGrant
from tests.conftest import backends
from tests.security.pep.world import DR1, DR2, JSON, P1, P2, World, ref

TEXT = "Biopsie positive : nous en parlerons lundi"
REPORT = b"%PDF-1.7 anapath: carcinome"
TITLE = "anapath-martin.pdf"
# What a leak would look like: the words, the attachment bytes, their base64, its title.
LEAKS = (TEXT.encode(), b"Biopsie", REPORT, base64.b64encode(REPORT), TITLE.encode())


def message(
    mid: str, *, payload: list[dict[str, Any]] | None = None, **people: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Communication",
        "id": mid,
        "status": "completed",
        "category": [{"coding": [{"system": "urn:test:message", "code": "result"}]}],
        "payload": payload
        if payload is not None
        else [
            {"contentString": TEXT},
            {
                "contentAttachment": {
                    "contentType": "application/pdf",
                    "title": TITLE,
                    "data": base64.b64encode(REPORT).decode(),
                }
            },
        ],
        **people,
    }


def about_p1(mid: str = "msg-p1") -> dict[str, Any]:
    return message(
        mid,
        subject=ref("Patient/p1"),
        sender=ref("Practitioner/dr1"),
        recipient=[ref("Patient/p1")],
    )


def raw_rows(database: Database, resource_id: str) -> list[bytes]:
    """The current row and every version of a resource, as the database holds them."""
    with database.read() as conn:
        current = conn.execute(
            select(fhir_resource.c.content).where(fhir_resource.c.id == resource_id)
        ).scalar_one()
        versions = conn.execute(
            select(fhir_history.c.content).where(fhir_history.c.id == resource_id)
        ).scalars()
        return [current, *versions]


def sealing_key(database: Database, resource_id: str) -> str:
    [attachment] = [
        p["contentAttachment"] for p in orjson.loads(raw_rows(database, resource_id)[0])["payload"]
    ]
    return str(attachment["_data"]["extension"][0]["valueString"])


def index_dump(database: Database) -> bytes:
    """Every row of every search index table, as text."""
    with database.read() as conn:
        return repr(
            [row for table in INDEX_TABLES.values() for row in conn.execute(select(table))]
        ).encode()


def assert_no_leak(content: bytes) -> None:
    for leak in LEAKS:
        assert leak not in content


def put(world: World, body: dict[str, Any]) -> None:
    response = world.call(DR1, "PUT", f"Communication/{body['id']}", body)
    assert response.status in (200, 201), response.body


@backends
def test_a_message_body_is_sealed_in_the_database_and_index_and_read_in_clear(
    world: World, database: Database
) -> None:
    sent = about_p1()
    put(world, sent)
    for content in raw_rows(database, "msg-p1"):
        assert_no_leak(content)
        assert orjson.loads(content)["subject"] == ref("Patient/p1")  # the rest stays clear
    assert_no_leak(index_dump(database))
    for reader in (P1, DR1):
        read = world.get(reader, "Communication/msg-p1")
        assert read.status == 200, read.body
        assert orjson.loads(read.body)["payload"] == sent["payload"]
    # Searches still find it by its clear parameters, and answer the body in clear.
    found = orjson.loads(world.get(P1, "Communication", recipient="Patient/p1").body)
    assert [e["resource"]["payload"] for e in found["entry"]] == [sent["payload"]]
    assert world.ids(P1, "Communication", category="result") == ["Communication/msg-p1"]
    assert world.get(P2, "Communication/msg-p1").status == 404
    assert world.get(DR2, "Communication/msg-p1").status == 404


@backends
def test_every_version_is_sealed_and_history_reads_each_in_clear(
    world: World, database: Database
) -> None:
    put(world, about_p1())
    second = about_p1()
    second["payload"] = [{"contentString": f"{TEXT} (rectificatif)"}]
    put(world, second)
    rows = raw_rows(database, "msg-p1")
    assert len(rows) == 3  # the current row and two versions
    for content in rows:
        assert_no_leak(content)
    history = orjson.loads(world.get(P1, "Communication/msg-p1/_history").body)
    bodies = [e["resource"]["payload"][0]["contentString"] for e in history["entry"]]
    assert bodies == [f"{TEXT} (rectificatif)", TEXT]
    old = world.get(P1, "Communication/msg-p1/_history/1")
    assert orjson.loads(old.body)["payload"][1]["contentAttachment"]["title"] == TITLE


@backends
def test_the_key_is_the_subjects_else_a_patient_sender_or_recipient_else_the_platforms(
    world: World, database: Database
) -> None:
    # Loaded by Hygie itself: no single professional may write all of them.
    world.load(
        [
            about_p1("to-p1"),
            message("subject-wins", subject=ref("Patient/p1"), sender=ref("Patient/p2")),
            message("from-p2", sender=ref("Patient/p2"), recipient=[ref("Practitioner/dr2")]),
            message("to-p2", sender=ref("Practitioner/dr2"), recipient=[ref("Patient/p2")]),
            message(
                "pro-to-pro", sender=ref("Practitioner/dr1"), recipient=[ref("Practitioner/dr2")]
            ),
        ]
    )
    keys = {
        mid: sealing_key(database, mid)
        for mid in ("to-p1", "subject-wins", "from-p2", "to-p2", "pro-to-pro")
    }
    assert keys == {
        "to-p1": "Patient/p1",
        "subject-wins": "Patient/p1",
        "from-p2": "Patient/p2",
        "to-p2": "Patient/p2",
        "pro-to-pro": "platform",
    }
    for content in raw_rows(database, "pro-to-pro"):
        assert_no_leak(content)
    read = world.get(DR1, "Communication/pro-to-pro")
    assert orjson.loads(read.body)["payload"][0] == {"contentString": TEXT}


@backends
def test_an_erased_patient_key_makes_their_messages_unreadable_and_others_intact(
    world: World, database: Database, keyring: Keyring
) -> None:
    world.load(
        [
            about_p1(),
            message("from-p2", sender=ref("Patient/p2"), recipient=[ref("Practitioner/dr1")]),
        ]
    )
    assert keyring.erase_patient_key("Patient/p1")
    for ctx, path in ((P1, "Communication/msg-p1"), (DR1, "Communication/msg-p1/_history/1")):
        response = world.get(ctx, path)
        assert response.status == 410, response.body
        assert b"erased" in response.body
        assert_no_leak(response.body)
    for content in raw_rows(database, "msg-p1"):
        assert_no_leak(content)
    # Another patient's messages are untouched, and nothing new is sealed for p1.
    assert orjson.loads(world.get(P2, "Communication/from-p2").body)["payload"][0] == {
        "contentString": TEXT
    }
    assert (
        world.call(DR1, "PUT", "Communication/msg-p1-again", about_p1("msg-p1-again")).status == 410
    )
    assert world.get(DR1, "Communication/msg-p1-again").status == 404


@backends
def test_a_payload_shaped_like_a_sealed_one_is_sealed_like_any_other(
    world: World, database: Database
) -> None:
    # A client cannot make Hygie treat its own bytes as a blob to open.
    forged = [
        {
            "contentAttachment": {
                "contentType": "application/vnd.hygie.sealed",
                "data": base64.b64encode(b"not a blob").decode(),
                "_data": {
                    "extension": [
                        {
                            "url": "https://hygie.example/fhir/StructureDefinition/encrypted-with",
                            "valueString": "Patient/p2",
                        }
                    ]
                },
            }
        }
    ]
    put(world, message("forged", payload=forged, subject=ref("Patient/p1")))
    assert sealing_key(database, "forged") == "Patient/p1"
    read = world.get(P1, "Communication/forged")
    assert read.status == 200, read.body
    assert orjson.loads(read.body)["payload"] == forged


@backends
def test_the_break_glass_notification_is_sealed_and_read_by_the_patient(
    world: World, database: Database
) -> None:
    grant = BreakGlassGrant(
        "g1", "Practitioner/dr2", "Patient/p1", "coma, aucun proche", 1_700_000_000, 1_700_003_600
    )
    notify_patient(world.store)("Patient/p1", grant)
    [note] = [e["resource"] for e in orjson.loads(world.get(P1, "Communication").body)["entry"]]
    assert "coma, aucun proche" in note["payload"][0]["contentString"]
    for content in raw_rows(database, note["id"]):
        assert b"coma" not in content and b"bris de glace" not in content
    assert sealing_key(database, note["id"]) == "Patient/p1"


def transaction(world: World, *entries: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}
    headers = {**JSON, "prefer": "return=representation"}
    request = FhirRequest("POST", "", headers=headers, body=orjson.dumps(bundle))
    response = world.router.handle(request, SystemAccess(reason="tests: transaction"))
    return response.status, orjson.loads(response.body)


@backends
def test_a_transaction_answers_messages_in_clear(world: World, database: Database) -> None:
    sent = about_p1()
    del sent["id"]
    status, bundle = transaction(
        world, {"resource": sent, "request": {"method": "POST", "url": "Communication"}}
    )
    assert status == 200, bundle
    [entry] = bundle["entry"]
    assert entry["resource"]["payload"] == sent["payload"]
    for content in raw_rows(database, entry["resource"]["id"]):
        assert_no_leak(content)


@backends
def test_a_message_for_a_patient_created_in_the_same_transaction_is_sealed_under_their_key(
    world: World, database: Database
) -> None:
    # The patient's data key is created inside the transaction, and commits with it.
    new_patient = {"resourceType": "Patient", "name": [{"family": "Nouveau"}]}
    sent = message("x", subject=ref("urn:uuid:0c7b3d3e-2a51-4bb0-9bd4-6f0e9a1d2c11"))
    del sent["id"]
    status, bundle = transaction(
        world,
        {
            "fullUrl": "urn:uuid:0c7b3d3e-2a51-4bb0-9bd4-6f0e9a1d2c11",
            "resource": new_patient,
            "request": {"method": "POST", "url": "Patient"},
        },
        {"resource": sent, "request": {"method": "POST", "url": "Communication"}},
    )
    assert status == 200, bundle
    patient, written = (e["resource"] for e in bundle["entry"])
    assert written["payload"] == sent["payload"]
    assert sealing_key(database, written["id"]) == f"Patient/{patient['id']}"
    for content in raw_rows(database, written["id"]):
        assert_no_leak(content)
