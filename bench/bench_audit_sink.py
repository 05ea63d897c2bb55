"""Audit sink: appends/s and submit latency with 1, 8 and 32 concurrent submitters.

Each submitter stores one entry per call and waits for it to be committed, as the PEP does
per request. ``sink`` goes through AuditSink (group commit); ``direct`` calls
AuditLog.append (one write transaction per entry) for comparison. Writes
bench/results/audit-sink.json. SQLite is a file in a temporary directory (synchronous FULL,
as Hygie runs it); PostgreSQL a scratch database on HYGIE_TEST_POSTGRES_URL's server
(default postgresql://postgres@127.0.0.1:5432/postgres).

    uv run python bench/bench_audit_sink.py [--duration 3] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url
from hygie.security.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    AuditLog,
    Outcome,
    load_signer,
    verify_log,
)
from hygie.security.audit.sink import AuditSink

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 28, tzinfo=UTC)
CONCURRENCY = (1, 8, 32)


def make_entry(n: int) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(milliseconds=n),
        actor=Actor(ActorKind.PRACTITIONER, f"Practitioner/pr-{n % 300}", "Dr Bench"),
        action="fhir.read",
        outcome=Outcome.PERMIT,
        policy_id="clinician-reads-own-patients",
        resource=f"Observation/obs-{n}",
        patient=f"Patient/p-{n % 20_000}",
        client_id="hygie-web",
        network_zone="clinical-lan",
        purpose_of_use="TREAT",
    )


def run(append: Callable[[AuditEntry], object], threads: int, duration: float) -> dict[str, Any]:
    """``threads`` submitters appending one entry at a time for ``duration`` seconds."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    start_line = threading.Barrier(threads + 1)
    stop_at = 0.0

    def submitter(worker: int) -> None:
        mine = latencies[worker]
        n = worker * 10_000_000
        start_line.wait()
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            append(make_entry(n))
            mine.append(time.perf_counter() - began)
            n += 1

    workers = [threading.Thread(target=submitter, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at = began + duration
    start_line.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    every = sorted(value for mine in latencies for value in mine)
    cuts = statistics.quantiles(every, n=100)
    return {
        "appends": len(every),
        "appends_per_s": round(len(every) / elapsed),
        "latency_p50_ms": round(cuts[49] * 1000, 3),
        "latency_p99_ms": round(cuts[98] * 1000, 3),
    }


def bench_backend(backend: str, duration: float, workdir: Path) -> dict[str, Any]:
    with scratch_database_url(backend, workdir) as url:
        db = Database(make_engine(url))
        try:
            upgrade(db.engine)
            signer = load_signer({}, data_dir=workdir, allow_generate=True)
            log = AuditLog(db, signer)
            commits = 0

            def count_commit(_conn: Connection) -> None:
                nonlocal commits
                commits += 1

            event.listen(db.engine, "commit", count_commit)
            result: dict[str, Any] = {"direct": {}, "sink": {}}
            for threads in CONCURRENCY:
                result["direct"][str(threads)] = run(log.append, threads, duration)
                with AuditSink(log) as sink:
                    before = commits
                    figures = run(lambda e: sink.submit([e]), threads, duration)
                    figures["entries_per_transaction"] = round(
                        figures["appends"] / (commits - before), 1
                    )
                    result["sink"][str(threads)] = figures
                print(backend, threads, json.dumps(result["sink"][str(threads)]))
            report = verify_log(db, signer.verifier)
            assert report.ok, report.problem
            result["entries_verified"] = report.tree_size
            return result
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "command": f"uv run python bench/bench_audit_sink.py --duration {args.duration} "
        f"--backends {args.backends}",
        "unit": "one entry per submit; concurrency = submitting threads",
    }
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            results[backend] = bench_backend(backend, args.duration, Path(workdir))
    out = ROOT / "bench" / "results" / "audit-sink.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
