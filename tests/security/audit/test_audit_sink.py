"""The audit sink on SQLite and PostgreSQL: group commit, durability, failures, close."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, select

from hygie.db.engine import Database
from hygie.security.audit import AuditEntry, AuditLog, TreeHeadSigner, load_signer, verify_log
from hygie.security.audit.sink import AuditNotStored, AuditSink
from hygie.security.audit.tables import security_audit_entry, security_audit_head
from tests.conftest import backends
from tests.security.test_audit_helpers import entry


@pytest.fixture
def signer(tmp_path: Path) -> TreeHeadSigner:
    return load_signer({}, data_dir=tmp_path, allow_generate=True)


@pytest.fixture
def log(database: Database, signer: TreeHeadSigner) -> AuditLog:
    return AuditLog(database, signer)


@pytest.fixture
def sink(log: AuditLog) -> Iterator[AuditSink]:
    with AuditSink(log) as audit_sink:
        yield audit_sink


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


@contextmanager
def appends_blocked(database: Database) -> Iterator[Connection]:
    """Hold the log's head row (as a concurrent appender would): the sink's writer waits."""
    with database.write() as conn:
        conn.execute(select(security_audit_head).with_for_update()).one()
        yield conn


def occupy(conn: Connection, index: int) -> None:
    """A foreign row at ``index``: the append that reaches it fails on the primary key."""
    conn.execute(
        security_audit_entry.insert().values(
            idx=index, leaf=b"squatter", leaf_hash=bytes(32), time_us=0, patient_ref=None
        )
    )


def in_thread(run: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Start ``run`` in a thread; the list receives its result or its exception."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:  # inspected by the test
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@backends
def test_concurrent_submitters_get_consecutive_indexes_in_few_transactions(
    database: Database, log: AuditLog, sink: AuditSink, signer: TreeHeadSigner
) -> None:
    commits = 0

    def count_commit(_conn: Connection) -> None:
        nonlocal commits
        commits += 1

    submitted: dict[int, list[AuditEntry]] = {}  # first index -> the entries submitted
    lock = threading.Lock()
    errors: list[BaseException] = []

    def submitter(worker: int) -> None:
        try:
            for n in range(20):
                entries = [entry(worker * 1000 + n * 10 + k) for k in range(1 + n % 3)]
                indexes = sink.submit(entries)
                assert indexes == list(range(indexes[0], indexes[0] + len(entries)))
                with lock:
                    submitted[indexes[0]] = entries
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    event.listen(database.engine, "commit", count_commit)
    threads = [threading.Thread(target=submitter, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    event.remove(database.engine, "commit", count_commit)

    assert errors == []
    total = sum(len(entries) for entries in submitted.values())
    assert total == 16 * sum(1 + n % 3 for n in range(20))
    assert log.tree_head().tree_size == total
    for first, entries in submitted.items():
        assert [log.entry(first + k) for k in range(len(entries))] == entries
    assert commits < len(submitted)  # concurrent submissions shared transactions
    assert verify_log(database, signer.verifier).ok


@backends
def test_a_failed_commit_fails_every_waiter_of_its_batch_and_stores_none_of_it(
    database: Database, log: AuditLog, sink: AuditSink, signer: TreeHeadSigner
) -> None:
    sink.submit([entry(0)])
    with appends_blocked(database) as conn:
        first, first_outcome = in_thread(lambda: sink.submit([entry(1)]))
        wait_until(lambda: sink.writing == 1)  # the writer holds it, waiting for the lock
        batch = [in_thread(lambda n=n: sink.submit([entry(n), entry(n + 1)])) for n in (2, 4, 6)]
        wait_until(lambda: sink.queued == 6)
        occupy(conn, 2)  # entry(1) lands at 1; the batch after it would start at 2
    for thread, _ in [(first, first_outcome), *batch]:
        thread.join()

    assert first_outcome == [[1]]
    for _, outcome in batch:
        assert isinstance(outcome[0], AuditNotStored)
        assert "IntegrityError" in str(outcome[0])
        assert "squatter" not in str(outcome[0])  # no SQL parameters in the message
    assert log.tree_head().tree_size == 2
    with database.write() as conn:
        conn.execute(security_audit_entry.delete().where(security_audit_entry.c.idx == 2))
    assert verify_log(database, signer.verifier).ok
    assert sink.submit([entry(8)]) == [2]  # the writer carries on after a failure


@backends
def test_close_stores_what_is_queued_then_refuses(
    database: Database, log: AuditLog, signer: TreeHeadSigner
) -> None:
    sink = AuditSink(log)
    with appends_blocked(database):
        waiters = [in_thread(lambda: sink.submit([entry(0)]))]
        wait_until(lambda: sink.writing == 1)  # the writer holds it, waiting for the lock
        waiters += [in_thread(lambda n=n: sink.submit([entry(n)])) for n in range(1, 5)]
        wait_until(lambda: sink.queued == 4)
        closer, closed = in_thread(sink.close)
        time.sleep(0.05)
        assert closer.is_alive()  # close waits for the queued entries to be stored
    closer.join()
    assert closed == [None]
    for thread, _ in waiters:
        thread.join()
    assert sorted(index for _, outcome in waiters for index in outcome[0]) == [0, 1, 2, 3, 4]
    with pytest.raises(AuditNotStored, match="closed"):
        sink.submit([entry(9)])
    assert log.tree_head().tree_size == 5
    assert verify_log(database, signer.verifier).ok


@backends
def test_async_submitters_are_batched_without_blocking_the_event_loop(
    database: Database, log: AuditLog, sink: AuditSink, signer: TreeHeadSigner
) -> None:
    async def scenario() -> tuple[list[list[int]], int, BaseException | None]:
        ticks = 0
        with appends_blocked(database) as conn:
            tasks = [asyncio.create_task(sink.submit_async([entry(0)]))]
            await asyncio.sleep(0)
            wait_until(lambda: sink.writing == 1)  # the writer holds it, waiting for the lock
            tasks += [asyncio.create_task(sink.submit_async([entry(n)])) for n in range(1, 40)]
            for _ in range(10):  # the loop keeps running while the writer waits
                await asyncio.sleep(0.005)
                ticks += 1
            assert not any(task.done() for task in tasks)
            assert sink.queued == 39
            occupy(conn, 1)  # the first entry lands at 0, the 39 batched after it fail
        results = await asyncio.gather(*tasks, return_exceptions=True)
        with database.write() as conn:
            conn.execute(security_audit_entry.delete().where(security_audit_entry.c.idx == 1))
        after = await asyncio.gather(*(sink.submit_async([entry(n)]) for n in range(50, 60)))
        failures = [r for r in results if isinstance(r, BaseException)]
        stored = [r for r in results if not isinstance(r, BaseException)]
        return [*stored, *after], ticks, failures[0] if len(failures) == 39 else None

    stored, ticks, failure = asyncio.run(scenario())
    assert ticks == 10
    assert isinstance(failure, AuditNotStored)
    assert sorted(i for indexes in stored for i in indexes) == list(range(11))
    assert log.tree_head().tree_size == 11
    assert verify_log(database, signer.verifier).ok


def test_bad_submissions_are_refused_before_they_reach_a_batch(
    log: AuditLog, sink: AuditSink
) -> None:
    assert sink.submit([]) == []
    with pytest.raises(TypeError):
        sink.submit(["fhir.read"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        AuditSink(log, max_batch=0)
    assert log.tree_head().tree_size == 0
    assert sink.submit([entry(0)]) == [0]


def test_a_submission_larger_than_a_batch_is_stored_whole(log: AuditLog) -> None:
    with AuditSink(log, max_batch=4) as sink:
        assert sink.submit([entry(n) for n in range(10)]) == list(range(10))
        assert sink.submit([entry(10)]) == [10]
