"""Crypto-shredding: once a patient's data key is erased, their data is unreadable for good."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from hygie.db.engine import Database
from hygie.security.crypto import KekSet, KeyDestroyed, Keyring
from hygie.security.crypto.tables import security_data_key
from hygie.security.crypto.wrapping import unwrap_dek
from tests.conftest import backends

PATIENT = "Patient/erased"
KEPT = "Patient/kept"
AAD = b"Communication/77/_history/1"
BODY = b"Resultats de biopsie: a discuter en consultation."


def kek_set() -> KekSet:
    return KekSet(active_id="kek-a", keys={"kek-a": os.urandom(32)})


@backends
def test_after_erasure_the_patients_data_is_unreadable_and_others_are_untouched(
    database: Database,
) -> None:
    keks = kek_set()
    keyring = Keyring(database, keks)
    erased_blob = keyring.encrypt(PATIENT, BODY, aad=AAD)
    kept_blob = keyring.encrypt(KEPT, BODY, aad=AAD)

    assert keyring.erase_patient_key(PATIENT) is True

    for reader in (keyring, Keyring(database, keks)):  # this process and a fresh one
        with pytest.raises(KeyDestroyed, match="destroyed \\(erasure\\)") as error:
            reader.decrypt(PATIENT, erased_blob, aad=AAD)
        assert BODY.decode()[:10] not in str(error.value)
        assert reader.decrypt(KEPT, kept_blob, aad=AAD) == BODY
    with pytest.raises(KeyDestroyed):
        keyring.encrypt(PATIENT, b"new data for an erased patient", aad=AAD)
    assert keyring.erase_patient_key(PATIENT) is False
    assert keyring.erase_patient_key("Patient/never-seen") is False
    with database.read() as conn:
        row = conn.execute(
            select(security_data_key).where(security_data_key.c.patient_ref == PATIENT)
        ).one()
    assert row.wrapped_dek is None and row.kek_id is None and row.destroyed_at_us > 0


def test_the_sqlite_file_keeps_no_trace_of_the_erased_key(database: Database) -> None:
    keks = kek_set()
    keyring = Keyring(database, keks)
    blob = keyring.encrypt(PATIENT, BODY, aad=AAD)
    with database.read() as conn:
        row = conn.execute(select(security_data_key)).one()
    dek = unwrap_dek(
        keks, row.wrapped_dek, kek_id=row.kek_id, dek_id=row.dek_id, patient_ref=PATIENT
    )
    db_file = Path(str(database.engine.url.database))
    checkpoint(database)
    assert row.wrapped_dek in file_bytes(db_file)  # the scan does find the key when present

    keyring.erase_patient_key(PATIENT)
    checkpoint(database)  # no VACUUM needed: the erasure zeroes the freed bytes itself
    files = [db_file, db_file.with_name(db_file.name + "-wal")]
    for content in map(file_bytes, files):
        assert row.wrapped_dek not in content and dek not in content
    # Even holding the KEK and the database, a reader has nothing left to unwrap.
    with pytest.raises(KeyDestroyed):
        Keyring(database, keks).decrypt(PATIENT, blob, aad=AAD)


def checkpoint(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def file_bytes(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""
