"""KEK rotation and status: every data key rewrapped, readers never interrupted, reruns safe."""

from __future__ import annotations

import os
import threading

import pytest

from hygie.db.engine import Database
from hygie.security.crypto import KekSet, Keyring, UnknownKek, key_status, rotate
from tests.conftest import backends

AAD = b"DocumentReference/9/content/0"
OLD, NEW, LOST = os.urandom(32), os.urandom(32), os.urandom(32)


def patients(n: int) -> list[str]:
    return [f"Patient/p{i}" for i in range(n)]


def seal_all(keyring: Keyring, refs: list[str]) -> dict[str, bytes]:
    return {ref: keyring.encrypt(ref, ref.encode() * 3, aad=AAD) for ref in refs}


@backends
def test_rotation_rewraps_every_live_key_while_readers_keep_reading(database: Database) -> None:
    before = KekSet("kek-old", {"kek-old": OLD})
    during = KekSet("kek-new", {"kek-old": OLD, "kek-new": NEW})
    after = KekSet("kek-new", {"kek-new": NEW})
    refs = patients(9)
    blobs = seal_all(Keyring(database, before), refs)
    Keyring(database, before).erase_patient_key(refs[4])
    live = [ref for ref in refs if ref != refs[4]]

    # A reader with a one-key cache goes back to the table on nearly every read.
    reader = Keyring(database, during, cache_size=1)
    stop = threading.Event()
    reads: list[bool] = []

    def keep_reading() -> None:
        while not stop.is_set():
            for ref in live:
                reads.append(reader.decrypt(ref, blobs[ref], aad=AAD) == ref.encode() * 3)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        report = rotate(database, during, batch_size=3)
    finally:
        stop.set()
        thread.join()

    assert (report.rewrapped, report.batches, report.under_active) == (8, 3, 8)
    assert reads and all(reads)
    status = key_status(database, during)
    assert status.deks_by_kek == {"kek-new": 8} and status.destroyed == 1
    # The old KEK can now be retired: the new one alone reads everything.
    retired = Keyring(database, after)
    assert all(retired.decrypt(ref, blobs[ref], aad=AAD) == ref.encode() * 3 for ref in live)
    assert rotate(database, during).rewrapped == 0  # nothing left to do


def test_an_interrupted_rotation_finishes_when_run_again(database: Database) -> None:
    refs = patients(7)
    old = KekSet("kek-old", {"kek-old": OLD})
    blobs = seal_all(Keyring(database, old), refs[:3])
    # One key wrapped by a KEK the operator forgot to put in the key file.
    blobs |= seal_all(Keyring(database, KekSet("kek-lost", {"kek-lost": LOST})), refs[3:4])
    blobs |= seal_all(Keyring(database, old), refs[4:])
    incomplete = KekSet("kek-new", {"kek-old": OLD, "kek-new": NEW})

    with pytest.raises(UnknownKek, match="KEK 'kek-lost', which is not loaded"):
        rotate(database, incomplete, batch_size=2)
    status = key_status(database, incomplete)
    assert status.deks_by_kek == {"kek-new": 2, "kek-old": 4, "kek-lost": 1}
    assert status.missing_keks == ("kek-lost",)

    complete = KekSet("kek-new", {"kek-old": OLD, "kek-lost": LOST, "kek-new": NEW})
    report = rotate(database, complete, batch_size=2)
    assert (report.rewrapped, report.under_active) == (5, 7)
    assert key_status(database, complete).deks_by_kek == {"kek-new": 7}
    reader = Keyring(database, KekSet("kek-new", {"kek-new": NEW}))
    assert all(reader.decrypt(ref, blobs[ref], aad=AAD) == ref.encode() * 3 for ref in refs)


def test_new_keys_are_wrapped_by_the_active_kek(database: Database) -> None:
    keks = KekSet("kek-new", {"kek-old": OLD, "kek-new": NEW})
    Keyring(database, KekSet("kek-old", {"kek-old": OLD})).encrypt("Patient/a", b"a", aad=AAD)
    Keyring(database, keks).encrypt("Patient/b", b"b", aad=AAD)
    status = key_status(database, keks)
    assert status.active_kek == "kek-new" and status.loaded_keks == ("kek-new", "kek-old")
    assert status.deks_by_kek == {"kek-old": 1, "kek-new": 1} and status.missing_keks == ()
