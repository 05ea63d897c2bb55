"""Audit log: append rate into the database, proof and verification costs at a large size.

Writes bench/results/audit.json. SQLite is a file in a temporary directory (synchronous
FULL, as Hygie runs it); PostgreSQL runs in a scratch database created and dropped on
HYGIE_TEST_POSTGRES_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres).

    uv run python bench/bench_audit.py [--entries 1000000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url
from hygie.security.audit import (
    Actor,
    ActorKind,
    AuditEntry,
    AuditLog,
    Outcome,
    TreeHeadVerifier,
    load_signer,
    to_leaf,
    verify_log,
)
from hygie.security.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from hygie.security.audit.tables import security_audit_node

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 28, tzinfo=UTC)
BATCH = 1000


def make_entry(n: int) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(milliseconds=n),
        actor=Actor(ActorKind.PRACTITIONER, f"Practitioner/pr-{n % 300}", "Dr Bench"),
        action="fhir.read" if n % 10 else "fhir.search-type",
        outcome=Outcome.PERMIT if n % 50 else Outcome.DENY,
        policy_id="clinician-reads-own-patients",
        resource=f"Observation/obs-{n}",
        patient=f"Patient/p-{n % 20_000}",
        client_id="hygie-web",
        network_zone="clinical-lan",
        purpose_of_use="TREAT",
    )


def per_call(run: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - start) / repeat


@contextmanager
def scratch_database(backend: str, workdir: Path) -> Iterator[Database]:
    with scratch_database_url(backend, workdir) as url:
        db = Database(make_engine(url))
        try:
            yield db
        finally:
            db.dispose()


def bench_backend(backend: str, entries: int, workdir: Path) -> dict[str, Any]:
    with scratch_database(backend, workdir) as db:
        upgrade(db.engine)
        log = AuditLog(db, load_signer({}, data_dir=workdir, allow_generate=True))
        singles = 500
        single = per_call(lambda: log.append(make_entry(0)), singles)
        start = time.perf_counter()
        for first in range(singles, entries, BATCH):
            log.append_many([make_entry(n) for n in range(first, min(first + BATCH, entries))])
        batched = (entries - singles) / (time.perf_counter() - start)

        rng = random.Random(9162)
        sth = log.signed_tree_head()
        size = sth.tree_size
        indexes = [rng.randrange(size) for _ in range(300)]
        proofs = iter(indexes)
        inclusion = per_call(lambda: log.inclusion_proof(next(proofs), size), len(indexes))
        proof = log.inclusion_proof(indexes[0], size)
        leaf = leaf_hash(to_leaf(log.entry(indexes[0]), indexes[0]))
        check = per_call(
            lambda: verify_inclusion(leaf, indexes[0], size, proof.path, sth.root_hash), 1000
        )
        olds = iter(rng.randrange(1, size) for _ in range(300))
        consistency = per_call(lambda: log.consistency_proof(next(olds), size), 300)
        old = size // 3
        cproof = log.consistency_proof(old, size)
        old_root = log.root_at(old)
        check_consistency = per_call(
            lambda: verify_consistency(old, size, old_root, sth.root_hash, cproof.path), 1000
        )
        start = time.perf_counter()
        report = verify_log(db, log_verifier(workdir))
        verify_seconds = time.perf_counter() - start
        assert report.ok, report.problem
        with db.read() as conn:
            nodes = conn.execute(select(func.count()).select_from(security_audit_node)).scalar()
        result: dict[str, Any] = {
            "entries": size,
            "single_append_per_transaction_per_s": round(1 / single),
            f"batched_append_{BATCH}_per_transaction_per_s": round(batched),
            "inclusion_proof_ms": round(inclusion * 1000, 3),
            "inclusion_path_length": len(proof.path),
            "verify_inclusion_us": round(check * 1e6, 1),
            "consistency_proof_ms": round(consistency * 1000, 3),
            "consistency_path_length": len(cproof.path),
            "verify_consistency_us": round(check_consistency * 1e6, 1),
            "signed_tree_head_ms": round(per_call(log.signed_tree_head, 200) * 1000, 3),
            "full_verify_s": round(verify_seconds, 1),
            "stored_nodes": nodes,
        }
        if backend == "sqlite":
            files = workdir.glob("audit.sqlite3*")
            result["database_bytes"] = sum(path.stat().st_size for path in files)
        return result


def log_verifier(workdir: Path) -> TreeHeadVerifier:
    return load_signer({}, data_dir=workdir, allow_generate=False).verifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "command": f"uv run python bench/bench_audit.py --entries {args.entries} "
        f"--backends {args.backends}",
    }
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as workdir:
            results[backend] = bench_backend(backend, args.entries, Path(workdir))
        print(backend, json.dumps(results[backend], indent=2))
    out = ROOT / "bench" / "results" / "audit.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
