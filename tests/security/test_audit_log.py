"""The audit log service on SQLite and PostgreSQL: appends, tree heads, proofs, concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hygie.db.engine import Database
from hygie.security.audit import AuditLog, Outcome, ProofRangeError, from_leaf, load_signer, to_leaf
from tests.conftest import backends
from tests.security.test_audit_helpers import entry, mth, path, subproof


@pytest.fixture
def log(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


def test_proofs_from_the_database_match_the_rfc_for_sizes_1_to_64(log: AuditLog) -> None:
    entries = [entry(n) for n in range(64)]
    leaves = [to_leaf(e, n) for n, e in enumerate(entries)]
    for n, e in enumerate(entries):
        assert log.append(e) == n
        assert log.tree_head().root_hash == mth(leaves[: n + 1])
    for n in range(1, 65):
        assert log.root_at(n) == mth(leaves[:n])
        for m in range(n):
            proof = log.inclusion_proof(m, n)
            assert list(proof.path) == path(m, leaves[:n])
            assert log.verify_inclusion(leaves[m], m, n, proof.path, mth(leaves[:n]))
        for m in range(1, n + 1):
            consistency = log.consistency_proof(m, n)
            assert list(consistency.path) == subproof(m, leaves[:n], True)


@backends
def test_appends_prove_inclusion_and_consistency(log: AuditLog) -> None:
    assert log.append_many([entry(n) for n in range(5)]) == [0, 1, 2, 3, 4]
    old = log.signed_tree_head()
    assert log.append_many([entry(n) for n in range(5, 13)]) == list(range(5, 13))
    assert log.append(entry(13, patient="Patient/p2", outcome=Outcome.DENY)) == 13
    new = log.signed_tree_head()
    assert (old.tree_size, new.tree_size) == (5, 14)

    proof = log.inclusion_proof(13, 14)
    assert log.verify_inclusion(
        to_leaf(entry(13, "Patient/p2", Outcome.DENY), 13), 13, 14, proof.path, new.root_hash
    )
    assert not log.verify_inclusion(to_leaf(entry(13), 13), 13, 14, proof.path, new.root_hash)
    consistency = log.consistency_proof(5, 14)
    assert log.verify_consistency(5, 14, old.root_hash, new.root_hash, consistency.path)

    assert log.entry(13).outcome is Outcome.DENY
    history = log.entries_for_patient("Patient/p2")
    assert [(i, e.resource) for i, e in history] == [(13, "Observation/obs-13")]
    assert [i for i, _ in log.entries_for_patient("Patient/p1", limit=3)] == [12, 11, 10]


@backends
def test_signed_tree_heads_verify_and_are_signed_once_per_size(
    log: AuditLog, tmp_path: Path
) -> None:
    log.append(entry(0))
    first = log.signed_tree_head()
    verifier = load_signer({}, data_dir=tmp_path, allow_generate=True).verifier
    assert verifier.is_valid(first.signature, first.timestamp_ms, 1, first.root_hash)
    assert not verifier.is_valid(first.signature, first.timestamp_ms, 2, first.root_hash)
    assert log.signed_tree_head() == first  # unchanged tree: the same head, not a new one
    log.append(entry(1))
    assert [sth.tree_size for sth in log.signed_tree_heads()] == [1]
    assert log.signed_tree_head().tree_size == 2
    assert [sth.tree_size for sth in log.signed_tree_heads()] == [1, 2]


@backends
def test_proofs_beyond_the_log_are_refused(log: AuditLog) -> None:
    log.append_many([entry(n) for n in range(3)])
    for call in (
        lambda: log.inclusion_proof(3, 3),
        lambda: log.inclusion_proof(0, 4),
        lambda: log.inclusion_proof(-1, 2),
        lambda: log.consistency_proof(0, 3),
        lambda: log.consistency_proof(3, 2),
        lambda: log.consistency_proof(1, 4),
        lambda: log.entry(3),
    ):
        with pytest.raises(ProofRangeError):
            call()
    assert log.tree_head().tree_size == 3


@backends
def test_concurrent_appenders_get_consecutive_indexes_without_gaps(log: AuditLog) -> None:
    got: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            for n in range(15):
                batch = [entry(worker * 100 + n)] if n % 3 else [entry(worker * 100 + n)] * 2
                indexes = log.append_many(batch)
                with lock:
                    got.extend(indexes)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(got) == list(range(len(got)))
    head = log.tree_head()
    assert head.tree_size == len(got)
    leaves = [to_leaf(log.entry(i), i) for i in range(head.tree_size)]
    assert head.root_hash == mth(leaves)
    assert all(from_leaf(leaf)[0] == i for i, leaf in enumerate(leaves))


@backends
def test_concurrent_signers_of_one_size_agree_on_one_head(log: AuditLog) -> None:
    log.append(entry(0))
    heads: list[object] = []
    threads = [
        threading.Thread(target=lambda: heads.append(log.signed_tree_head())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(heads) == 4 and all(head == heads[0] for head in heads)
    assert len(log.signed_tree_heads()) == 1
