"""Group commit for the audit log: many concurrent requests, one write transaction.

The PEP must not let a response leave before its audit entry is stored, but one write
transaction (one fsync) per FHIR read would cap reads at the disk's commit rate. The sink
queues the submissions of all threads (and of the event loop) and one writer thread stores
them together with :meth:`AuditLog.append_many`. A submitter is released only once its
batch has committed; if the commit fails, every submitter of that batch gets
:class:`AuditNotStored` and nothing of the batch is acknowledged.

Batching needs no timer when commits are slow: submissions pile up while the previous batch
commits. When commits are fast, the writer lingers for as many submitters as the previous
batch had: ``max_wait_ms``, then again while they keep arriving (four periods at most; a
busy event loop hands them over one by one), the way PostgreSQL's ``commit_delay`` only
waits when siblings are active, so a lone submitter never waits for company that will not
come.

Under load the writer competes with the event loop for the GIL, so it is woken only when
there is something to do (first submission, or as many as it lingers for), and a batch's
coroutine submitters are told with one callback per event loop, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from types import TracebackType

from hygie.security.audit.entry import AuditEntry
from hygie.security.audit.service import AuditLog

# The writer lingers for siblings while they keep arriving, at most this many max_wait periods.
_QUIET_PERIODS = 4

# Told the outcome of a submission exactly once: its indexes, or the reason it failed.
_Resolve = Callable[[list[int] | None, BaseException | None], None]


class AuditNotStored(RuntimeError):
    """The entries were not appended (the commit failed, or the sink is closed)."""


class _Submission:
    """``resolve`` runs in the writer thread, or in ``loop`` when the submitter awaits there."""

    __slots__ = ("entries", "loop", "resolve")

    def __init__(
        self,
        entries: list[AuditEntry],
        resolve: _Resolve,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.entries = entries
        self.resolve = resolve
        self.loop = loop


class AuditSink:
    """Durable, batched appends to ``log`` from any thread or from the event loop."""

    def __init__(self, log: AuditLog, *, max_batch: int = 512, max_wait_ms: float = 2) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait_ms < 0:
            raise ValueError("max_wait_ms must not be negative")
        self._log = log
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000
        self._queue: deque[_Submission] = deque()
        self._queued_entries = 0
        self._writing = 0
        self._wanted = 1  # submissions the lingering writer waits for
        self._ready = threading.Condition()
        self._closed = False
        self._writer = threading.Thread(target=self._run, name="audit-sink", daemon=True)
        self._writer.start()

    def submit(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append ``entries`` (consecutively, in order); return once committed, with their
        indexes. Raises :class:`AuditNotStored` if they were not stored."""
        done = threading.Event()
        outcome: list[list[int] | BaseException] = []

        def resolve(indexes: list[int] | None, error: BaseException | None) -> None:
            outcome.append(_not_stored(error) if error is not None else indexes or [])
            done.set()

        if not self._enqueue(entries, resolve):
            return []
        done.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    async def submit_async(self, entries: Sequence[AuditEntry]) -> list[int]:
        """:meth:`submit` for coroutines: awaits the commit without blocking the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[int]] = loop.create_future()

        def settle(indexes: list[int] | None, error: BaseException | None) -> None:
            if future.done():  # the awaiting request was cancelled; its entries are stored
                return
            if error is not None:
                future.set_exception(_not_stored(error))
            else:
                future.set_result(indexes or [])

        if not self._enqueue(entries, settle, loop):
            return []
        return await future

    @property
    def queued(self) -> int:
        """Entries waiting for the writer (a gauge for monitoring)."""
        with self._ready:
            return self._queued_entries

    @property
    def writing(self) -> int:
        """Entries of the batch being stored now (a gauge for monitoring)."""
        with self._ready:
            return self._writing

    def close(self) -> None:
        """Store what is queued, then stop; later submissions raise :class:`AuditNotStored`."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._writer.join()

    def __enter__(self) -> AuditSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _enqueue(
        self,
        entries: Sequence[AuditEntry],
        resolve: _Resolve,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> bool:
        """Queue a submission; False when there is nothing to store."""
        batch = list(entries)
        # Checked here so that one caller's mistake cannot fail the other callers' batch.
        if not all(isinstance(entry, AuditEntry) for entry in batch):
            raise TypeError("AuditSink.submit takes a sequence of AuditEntry")
        if not batch:
            return False
        with self._ready:
            if self._closed:
                raise AuditNotStored("the audit sink is closed")
            self._queue.append(_Submission(batch, resolve, loop))
            self._queued_entries += len(batch)
            # Waking the writer costs a GIL hand-over: only when it has a reason to move.
            if (
                len(self._queue) == 1
                or len(self._queue) >= self._wanted
                or self._queued_entries >= self._max_batch
            ):
                self._ready.notify()
        return True

    def _run(self) -> None:
        siblings = 1  # submissions in the previous batch: how many to linger for
        while True:
            batch = self._next_batch(siblings)
            if not batch:
                return
            siblings = len(batch)
            self._store(batch)
            with self._ready:
                self._writing = 0

    def _next_batch(self, siblings: int) -> list[_Submission]:
        """Wait for work, linger briefly for siblings, then take up to ``max_batch`` entries
        (a submission larger than that goes alone, never split). Empty when closed and idle."""
        with self._ready:
            self._wanted = siblings
            while not self._queue and not self._closed:
                self._ready.wait()
            now = time.monotonic()
            deadline, limit = now + self._max_wait, now + _QUIET_PERIODS * self._max_wait
            arrived = len(self._queue)
            while (
                not self._closed
                and len(self._queue) < siblings
                and self._queued_entries < self._max_batch
            ):
                now = time.monotonic()
                if now >= deadline:
                    # Siblings still arriving: one more period for them, never past the limit.
                    if len(self._queue) == arrived or now >= limit:
                        break
                    arrived = len(self._queue)
                    deadline = min(now + self._max_wait, limit)
                    continue
                self._ready.wait(deadline - now)
            batch: list[_Submission] = []
            size = 0
            while self._queue and (
                not batch or size + len(self._queue[0].entries) <= self._max_batch
            ):
                submission = self._queue.popleft()
                size += len(submission.entries)
                batch.append(submission)
            self._queued_entries -= size
            self._writing = size
            return batch

    def _store(self, batch: list[_Submission]) -> None:
        try:
            indexes = self._log.append_many([e for s in batch for e in s.entries])
        except Exception as error:  # the transaction rolled back: no entry of it is stored
            _tell_all(batch, None, error)
            return
        _tell_all(batch, indexes, None)


def _tell_all(
    batch: list[_Submission], indexes: list[int] | None, error: BaseException | None
) -> None:
    """Tell every submitter of a batch its indexes (or the error): thread submitters here,
    coroutine submitters with one callback per event loop."""
    on_loops: dict[asyncio.AbstractEventLoop, list[Callable[[], None]]] = {}
    start = 0
    for submission in batch:
        end = start + len(submission.entries)
        part = None if indexes is None else indexes[start:end]
        start = end
        if submission.loop is None:
            submission.resolve(part, error)
        else:
            on_loops.setdefault(submission.loop, []).append(
                partial(submission.resolve, part, error)
            )
    for loop, calls in on_loops.items():
        # RuntimeError: the submitters' event loop is closed, nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_run_all, calls)


def _run_all(calls: list[Callable[[], None]]) -> None:
    for call in calls:
        call()


def _not_stored(cause: BaseException) -> AuditNotStored:
    """A fresh exception per waiter (one instance raised in many threads would share and
    grow one traceback), chained to the cause. The message names the cause's type only: a
    database error's text carries the SQL parameters, here the leaves themselves."""
    error = AuditNotStored(f"the audit entries were not stored ({type(cause).__name__})")
    error.__cause__ = cause
    return error
