"""Binary contents are encrypted at rest under the patient's key; erasure makes them unreadable."""

from __future__ import annotations

import base64

import orjson
from sqlalchemy import select

from hygie.db.engine import Database
from hygie.db.schema import fhir_history, fhir_resource
from hygie.security.crypto import Keyring
from tests.conftest import backends
from tests.security.pep.world import DR1, DR2, P1, SECRET, World


def raw_rows(database: Database, resource_id: str) -> list[bytes]:
    with database.read() as conn:
        current = conn.execute(
            select(fhir_resource.c.content).where(fhir_resource.c.id == resource_id)
        ).scalar_one()
        versions = conn.execute(
            select(fhir_history.c.content).where(fhir_history.c.id == resource_id)
        ).scalars()
        return [current, *versions]


@backends
def test_binary_data_is_encrypted_in_the_database_and_decrypted_on_read(
    world: World, database: Database
) -> None:
    encoded = base64.b64encode(SECRET)
    for content in raw_rows(database, "bin-p1"):
        assert SECRET not in content and encoded not in content
        assert orjson.loads(content)["data"] != encoded.decode()
    read = world.get(P1, "Binary/bin-p1")
    assert read.status == 200
    assert orjson.loads(read.body)["data"] == encoded.decode()
    assert "_data" not in orjson.loads(read.body)
    raw = world.call(P1, "GET", "Binary/bin-p1", headers={"accept": "application/pdf"})
    assert (raw.status, raw.body, raw.media_type) == (200, SECRET, "application/pdf")
    assert world.get(DR1, "Binary/bin-p1").status == 200  # care relationship
    assert world.get(DR2, "Binary/bin-p1").status == 404  # none


@backends
def test_raw_binary_upload_is_encrypted_and_answered_in_clear(
    world: World, database: Database
) -> None:
    body = b"\x89PNG radio thorax"
    created = world.call(DR1, "POST", "Binary", body, headers={"content-type": "image/png"})
    # A raw upload carries no securityContext: the platform key seals it, and no patient
    # compartment holds it, so only a professional can read it back.
    assert created.status == 201, created.body
    binary_id = created.headers["location"].split("/")[-3]
    assert all(body not in c for c in raw_rows(database, binary_id))
    raw = world.call(DR1, "GET", f"Binary/{binary_id}", headers={"accept": "image/png"})
    assert (raw.status, raw.body) == (200, body)
    assert world.get(P1, f"Binary/{binary_id}").status == 404


@backends
def test_an_erased_patient_key_makes_their_binaries_unreadable(
    world: World, keyring: Keyring
) -> None:
    assert keyring.erase_patient_key("Patient/p1")
    for ctx in (P1, DR1):
        response = world.get(ctx, "Binary/bin-p1")
        assert response.status == 410
        assert b"erased" in response.body and SECRET not in response.body
    # Nothing new can be sealed for them either.
    again = {
        "resourceType": "Binary",
        "id": "bin-p1b",
        "contentType": "text/plain",
        "securityContext": {"reference": "Patient/p1"},
        "data": base64.b64encode(b"x").decode(),
    }
    assert world.call(P1, "PUT", "Binary/bin-p1b", again).status == 410
