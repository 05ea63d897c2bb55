"""The keyring: sealing payloads per patient, and every way a blob can fail to open."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest
from sqlalchemy import select, update

from hygie.db.engine import Database
from hygie.security.crypto import (
    CryptoError,
    DataKeyMismatch,
    DecryptionFailed,
    KekMismatch,
    KekSet,
    Keyring,
    MalformedBlob,
    NoDataKey,
    UnknownKek,
    UnsupportedBlobVersion,
)
from hygie.security.crypto.tables import security_data_key
from tests.conftest import backends

PATIENT = "Patient/pat-1"
OTHER = "Patient/pat-2"
AAD = b"Binary/123/_history/2"
SECRET = b"Compte rendu operatoire: appendicectomie sans complication."


def kek_set(kek_id: str = "kek-a") -> KekSet:
    return KekSet(active_id=kek_id, keys={kek_id: os.urandom(32)})


@backends
def test_a_payload_round_trips_in_a_self_describing_blob(database: Database) -> None:
    keyring = Keyring(database, kek_set())
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    again = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    assert blob[0] == 1  # format version
    assert blob[1:17] == again[1:17]  # the same patient's DEK id
    assert blob[17:29] != again[17:29]  # a fresh random nonce each time
    assert len(blob) == 1 + 16 + 12 + len(SECRET) + 16
    assert SECRET not in blob and SECRET[:16] not in blob
    assert keyring.decrypt(PATIENT, blob, aad=AAD) == SECRET
    assert keyring.decrypt(PATIENT, keyring.encrypt(PATIENT, b"", aad=AAD), aad=AAD) == b""


@backends
def test_a_fresh_process_with_the_kek_reads_what_another_wrote(database: Database) -> None:
    keks = kek_set()
    blob = Keyring(database, keks).encrypt(PATIENT, SECRET, aad=AAD)
    with database.read() as conn:
        stored = conn.execute(select(security_data_key)).one()
    assert stored.kek_id == "kek-a" and stored.patient_ref == PATIENT
    assert len(stored.wrapped_dek) == 12 + 32 + 16  # nonce, wrapped DEK, tag
    assert Keyring(database, keks).decrypt(PATIENT, blob, aad=AAD) == SECRET


@backends
def test_two_threads_creating_the_first_key_for_a_patient_end_with_one_key(
    database: Database,
) -> None:
    keks = kek_set()
    # Separate keyrings, as separate processes would have: no shared cache.
    keyrings = [Keyring(database, keks) for _ in range(2)]
    start = threading.Barrier(len(keyrings))
    blobs: list[bytes] = []
    failures: list[BaseException] = []

    def first_write(keyring: Keyring) -> None:
        try:
            start.wait()
            blobs.append(keyring.encrypt(PATIENT, SECRET, aad=AAD))
        except BaseException as exc:  # surfaced below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=first_write, args=(k,)) for k in keyrings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with database.read() as conn:
        rows = conn.execute(
            select(security_data_key.c.dek_id).where(security_data_key.c.patient_ref == PATIENT)
        ).all()
    assert len(rows) == 1
    reader = Keyring(database, keks)
    assert [reader.decrypt(PATIENT, blob, aad=AAD) for blob in blobs] == [SECRET, SECRET]
    assert {blob[1:17] for blob in blobs} == {rows[0].dek_id}


def test_a_different_kek_under_the_same_id_cannot_unwrap(database: Database) -> None:
    blob = Keyring(database, kek_set("kek-a")).encrypt(PATIENT, SECRET, aad=AAD)
    with pytest.raises(KekMismatch, match="does not unwrap with the loaded KEK 'kek-a'") as error:
        Keyring(database, kek_set("kek-a")).decrypt(PATIENT, blob, aad=AAD)
    assert_nothing_leaks(error.value)


def test_a_missing_kek_is_named(database: Database) -> None:
    blob = Keyring(database, kek_set("kek-a")).encrypt(PATIENT, SECRET, aad=AAD)
    with pytest.raises(UnknownKek, match="wrapped by KEK 'kek-a', which is not loaded"):
        Keyring(database, kek_set("kek-b")).decrypt(PATIENT, blob, aad=AAD)


@pytest.mark.parametrize(
    ("where", "offset"),
    [("ciphertext", 29), ("nonce", 20), ("tag", -1), ("dek id", 5)],
)
def test_a_flipped_bit_anywhere_is_detected(database: Database, where: str, offset: int) -> None:
    keyring = Keyring(database, kek_set())
    blob = bytearray(keyring.encrypt(PATIENT, SECRET, aad=AAD))
    blob[offset] ^= 0x01
    expected: type[CryptoError] = DataKeyMismatch if where == "dek id" else DecryptionFailed
    with pytest.raises(expected) as error:
        keyring.decrypt(PATIENT, bytes(blob), aad=AAD)
    assert_nothing_leaks(error.value)


def test_a_blob_moved_to_another_context_does_not_open(database: Database) -> None:
    keyring = Keyring(database, kek_set())
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    for other_context in (b"Binary/123/_history/1", b"Binary/124/_history/2", b""):
        with pytest.raises(DecryptionFailed, match="context \\(AAD\\)"):
            keyring.decrypt(PATIENT, blob, aad=other_context)


def test_another_patients_blob_does_not_open(database: Database) -> None:
    keyring = Keyring(database, kek_set())
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    with pytest.raises(NoDataKey, match="no data key"):
        keyring.decrypt(OTHER, blob, aad=AAD)
    keyring.encrypt(OTHER, b"their own note", aad=AAD)
    with pytest.raises(DataKeyMismatch, match="not this patient's") as error:
        keyring.decrypt(OTHER, blob, aad=AAD)
    assert_nothing_leaks(error.value)


def test_truncated_empty_and_unknown_version_blobs_are_told_apart(database: Database) -> None:
    keyring = Keyring(database, kek_set())
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    with pytest.raises(MalformedBlob, match="truncated blob: 40 bytes, at least 45"):
        keyring.decrypt(PATIENT, blob[:40], aad=AAD)
    with pytest.raises(DecryptionFailed):  # long enough to parse, but cut: the tag fails
        keyring.decrypt(PATIENT, blob[:-3], aad=AAD)
    with pytest.raises(MalformedBlob, match="empty blob"):
        keyring.decrypt(PATIENT, b"", aad=AAD)
    with pytest.raises(UnsupportedBlobVersion, match="version 2 is unknown"):
        keyring.decrypt(PATIENT, b"\x02" + blob[1:], aad=AAD)


def test_a_wrapped_key_copied_onto_another_patient_does_not_unwrap(database: Database) -> None:
    # Someone with write access to the database moves a patient's wrapped DEK to another row.
    keks = kek_set()
    keyring = Keyring(database, keks)
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    keyring.encrypt(OTHER, b"their own note", aad=AAD)
    table = security_data_key
    with database.write() as conn:
        stolen = conn.execute(
            select(table.c.dek_id, table.c.wrapped_dek).where(table.c.patient_ref == PATIENT)
        ).one()
        conn.execute(table.delete().where(table.c.patient_ref == PATIENT))
        conn.execute(
            update(table)
            .where(table.c.patient_ref == OTHER)
            .values(dek_id=stolen.dek_id, wrapped_dek=stolen.wrapped_dek)
        )
    with pytest.raises(KekMismatch):
        Keyring(database, keks).decrypt(OTHER, blob, aad=AAD)


def test_patient_refs_are_checked(database: Database) -> None:
    keyring = Keyring(database, kek_set())
    for bad in ("", "P" * 129):
        with pytest.raises(ValueError, match="patient_ref must be 1 to 128 characters"):
            keyring.encrypt(bad, SECRET, aad=AAD)
    with database.read() as conn:
        assert conn.execute(select(security_data_key)).all() == []


def test_the_key_cache_is_bounded_and_expires(database: Database) -> None:
    keks = kek_set()
    keyring = Keyring(database, keks, cache_size=2, cache_ttl_s=0.2)
    for n in range(5):
        keyring.encrypt(f"Patient/p{n}", SECRET, aad=AAD)
    assert repr(keyring) == "Keyring(active_kek='kek-a', cached_keys=2)"
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    # Another process erases the key; this one notices once its cached copy expires.
    Keyring(database, keks).erase_patient_key(PATIENT)
    assert keyring.decrypt(PATIENT, blob, aad=AAD) == SECRET
    time.sleep(0.25)
    with pytest.raises(CryptoError, match="destroyed"):
        keyring.decrypt(PATIENT, blob, aad=AAD)


def test_keys_plaintext_and_patients_stay_out_of_logs_and_reprs(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    keks = kek_set()
    caplog.set_level(logging.DEBUG)
    keyring = Keyring(database, keks)
    blob = keyring.encrypt(PATIENT, SECRET, aad=AAD)
    keyring.decrypt(PATIENT, blob, aad=AAD)
    keyring.erase_patient_key(PATIENT)
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "data key was destroyed" in logged
    for secret in (SECRET.decode()[:20], PATIENT, keks.active_key.hex(), str(keks.active_key)):
        assert secret not in logged
        assert secret not in repr(keyring) and secret not in repr(keks)


def assert_nothing_leaks(error: BaseException) -> None:
    message = str(error)
    assert SECRET.decode()[:12] not in message and PATIENT not in message
