"""A patient's data key created inside the caller's write transaction: it commits or rolls
back with what it seals, and concurrent first writes for one patient end with one key."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from hygie.db.engine import Database
from hygie.security.crypto import KekSet, Keyring, NoDataKey
from hygie.security.crypto.tables import security_data_key
from tests.conftest import backends

PATIENT = "Patient/new-1"
AAD = b"Binary/b1"
SECRET = b"Compte rendu: coronarographie"


KEKS = KekSet(active_id="kek-a", keys={"kek-a": os.urandom(32)})


def keyring(database: Database) -> Keyring:
    """A keyring as one process has it (its own cache), all sharing the KEK file."""
    return Keyring(database, KEKS)


def key_rows(database: Database) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(security_data_key)).scalar_one())


@backends
def test_a_key_created_in_the_callers_transaction_commits_with_it(database: Database) -> None:
    ring = keyring(database)
    with database.write() as conn:  # on SQLite a key made in its own transaction would hang
        blob = ring.encrypt(PATIENT, SECRET, aad=AAD, conn=conn)
        second = ring.encrypt(PATIENT, SECRET, aad=AAD, conn=conn)
        assert blob[1:17] == second[1:17]  # one key for the patient
        assert ring.decrypt(PATIENT, blob, aad=AAD) == SECRET  # read back before commit
    assert key_rows(database) == 1
    for reader in (ring, keyring(database)):  # this process, and another one
        assert reader.decrypt(PATIENT, blob, aad=AAD) == SECRET


@backends
def test_a_key_created_in_a_rolled_back_transaction_is_never_used_again(
    database: Database,
) -> None:
    ring = keyring(database)
    with pytest.raises(RuntimeError), database.write() as conn:
        lost = ring.encrypt(PATIENT, SECRET, aad=AAD, conn=conn)
        raise RuntimeError("the transaction fails after sealing")
    assert key_rows(database) == 0
    with pytest.raises(NoDataKey):  # another process never saw it
        keyring(database).decrypt(PATIENT, lost, aad=AAD)
    # The next write makes and stores a new key; the lost one never comes back.
    kept = ring.encrypt(PATIENT, SECRET, aad=AAD)
    assert kept[1:17] != lost[1:17]
    assert key_rows(database) == 1
    assert ring.decrypt(PATIENT, kept, aad=AAD) == SECRET


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_first_writes_for_one_patient_end_with_one_key(database: Database) -> None:
    ring_a, ring_b = keyring(database), keyring(database)  # two processes
    first_sealed, second_started = threading.Event(), threading.Event()
    blobs: dict[str, bytes] = {}

    def first() -> None:
        with database.write() as conn:
            blobs["a"] = ring_a.encrypt(PATIENT, SECRET, aad=AAD, conn=conn)
            first_sealed.set()
            second_started.wait(5)
            time.sleep(0.3)  # the other is now waiting on the key's row: commit

    def second() -> None:
        first_sealed.wait(5)
        with database.write() as conn:
            second_started.set()
            blobs["b"] = ring_b.encrypt(PATIENT, SECRET, aad=AAD, conn=conn)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert key_rows(database) == 1
    assert blobs["a"][1:17] == blobs["b"][1:17]
    for ring in (ring_a, ring_b):
        assert ring.decrypt(PATIENT, blobs["a"], aad=AAD) == SECRET
        assert ring.decrypt(PATIENT, blobs["b"], aad=AAD) == SECRET
