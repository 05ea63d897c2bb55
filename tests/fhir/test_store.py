"""The store's own contract: versions, history, deletes, and no lost update under concurrency."""

from __future__ import annotations

import threading

import pytest

from hygie.db.engine import Database
from hygie.fhir.errors import FhirError
from hygie.fhir.store import FhirStore
from tests.conftest import backends


def patient(family: str = "Dupont", **extra: object) -> dict[str, object]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Hélène"]}], **extra}


@backends
def test_create_read_update_vread_delete(database: Database) -> None:
    store = FhirStore(database)
    created = store.create(patient(id="client-chosen"))
    assert created.created and created.stored.version == 1
    assert created.stored.id != "client-chosen"  # create assigns the id

    current = store.read("Patient", created.stored.id).resource()
    assert current["meta"]["versionId"] == "1"
    assert current["name"][0]["family"] == "Dupont"

    body = {**current, "name": [{"family": "Durand"}]}
    updated = store.update("Patient", created.stored.id, body, if_match=1)
    assert updated.stored.version == 2 and not updated.created
    assert store.read("Patient", created.stored.id).resource()["name"][0]["family"] == "Durand"
    assert store.vread("Patient", created.stored.id, 1).resource()["name"][0]["family"] == "Dupont"

    with pytest.raises(FhirError) as stale:
        store.update("Patient", created.stored.id, body, if_match=1)
    assert stale.value.status == 412

    deleted = store.delete("Patient", created.stored.id)
    assert deleted is not None and deleted.stored.version == 3
    with pytest.raises(FhirError) as gone:
        store.read("Patient", created.stored.id)
    assert gone.value.status == 410
    assert store.delete("Patient", created.stored.id) is None  # deleting again is a no-op
    with pytest.raises(FhirError) as missing:
        store.read("Patient", "never-existed")
    assert missing.value.status == 404


@backends
def test_update_as_create_and_recreate_after_delete(database: Database) -> None:
    store = FhirStore(database)
    first = store.update("Patient", "p1", patient(id="p1"))
    assert first.created and first.stored.version == 1
    store.delete("Patient", "p1")
    again = store.update("Patient", "p1", patient("Martin", id="p1"))
    assert again.created and again.stored.version == 3
    assert store.read("Patient", "p1").resource()["name"][0]["family"] == "Martin"


@backends
def test_id_in_body_must_match_url_and_bad_ids_are_refused(database: Database) -> None:
    store = FhirStore(database)
    with pytest.raises(FhirError) as mismatch:
        store.update("Patient", "p1", patient(id="p2"))
    assert mismatch.value.status == 400 and "must equal the id in the URL" in str(mismatch.value)
    with pytest.raises(FhirError) as bad:
        store.update("Patient", "bad id!", patient(id="bad id!"))
    assert bad.value.status == 400


@backends
def test_invalid_resource_stores_nothing(database: Database) -> None:
    store = FhirStore(database)
    with pytest.raises(FhirError) as invalid:
        store.create({"resourceType": "Patient", "birthDate": "28/11/2026"})
    assert invalid.value.status == 400
    with database.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM fhir_resource").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM fhir_history").scalar() == 0


@backends
def test_transaction_rolls_back_every_write(database: Database) -> None:
    store = FhirStore(database)
    with pytest.raises(FhirError), store.transaction() as tx:
        tx.create(patient("Kept"))
        tx.create({"resourceType": "Patient", "gender": "not-a-gender"})
    with database.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM fhir_resource").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM fhir_idx_string").scalar() == 0


@backends
def test_concurrent_updates_never_lose_one(database: Database) -> None:
    store = FhirStore(database)
    store.update("Patient", "shared", patient(id="shared"))
    writers, rounds = 8, 15
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(rounds):
                store.update("Patient", "shared", patient(f"W{n}-{i}", id="shared"))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = store.read("Patient", "shared")
    assert final.version == 1 + writers * rounds
    with database.read() as conn:
        versions = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT version FROM fhir_history WHERE id = 'shared' ORDER BY version"
            )
        ]
    assert versions == list(range(1, 2 + writers * rounds))


@backends
def test_concurrent_update_as_create_of_one_id(database: Database) -> None:
    store = FhirStore(database)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def put(n: int) -> None:
        barrier.wait()
        try:
            store.update("Patient", "same-id", patient(f"N{n}", id="same-id"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.read("Patient", "same-id").version == 6
