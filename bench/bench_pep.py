"""The enforcement point's cost on FHIR reads: µs per read through the router, unguarded
(SystemAccess) versus guarded (Cedar PDP, facts, narrowing), for a patient and for a
professional (consent and care facts: one more query), without and with the audit sink
(group commit, measured single-threaded: each read waits for its own commit).

Writes bench/results/pep.json.

    uv run python bench/bench_pep.py [--reads 3000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hygie.db.engine import Database, make_engine  # noqa: E402
from hygie.db.migrate import upgrade  # noqa: E402
from hygie.db.scratch import scratch_database_url  # noqa: E402
from hygie.fhir.access import AccessGuard, SystemAccess  # noqa: E402
from hygie.fhir.http_types import FhirRequest  # noqa: E402
from hygie.fhir.router import FhirRouter  # noqa: E402
from hygie.security.audit import AuditLog, load_signer  # noqa: E402
from hygie.security.audit.sink import AuditSink  # noqa: E402
from hygie.security.crypto import KekSet, Keyring  # noqa: E402
from hygie.security.pep import EnforcementPoint, secure_store  # noqa: E402
from hygie.security.policy import CedarDecisionPoint  # noqa: E402
from tests.security.pep.world import DR1, JSON, P1, World, hospital, observation  # noqa: E402

Guards = Callable[[], AccessGuard]


def per_read_us(router: FhirRouter, guard: Guards, reads: int, path: str) -> float:
    request = FhirRequest("GET", path, headers=JSON)
    for _ in range(200):  # warm caches (PDP memo, statement cache, key cache)
        assert router.handle(request, guard()).status == 200
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(reads // 5):
            router.handle(request, guard())
        rounds.append((time.perf_counter() - started) / (reads // 5) * 1e6)
    return round(statistics.median(rounds), 1)


def bench_backend(backend: str, reads: int, workdir: Path) -> dict[str, Any]:
    with scratch_database_url(backend, workdir) as url:
        db = Database(make_engine(url))
        try:
            upgrade(db.engine)
            keyring = Keyring(db, KekSet(active_id="k", keys={"k": os.urandom(32)}))
            store = secure_store(db, keyring)
            router = FhirRouter(store, fhir_base="http://bench/fhir")
            log = AuditLog(db, load_signer({}, data_dir=workdir, allow_generate=True))
            pdp = CedarDecisionPoint.load()
            quiet = EnforcementPoint(pdp, audit=None)
            world = World(store, router, quiet)
            world.load(hospital() + [observation(f"o{n}", "Patient/p1") for n in range(200)])
            path = "Observation/obs-p1"
            result: dict[str, Any] = {
                "unguarded_us": per_read_us(
                    router, lambda: SystemAccess(reason="bench"), reads, path
                ),
                "patient_guarded_us": per_read_us(router, lambda: quiet.guard(P1), reads, path),
                "professional_guarded_us": per_read_us(
                    router, lambda: quiet.guard(DR1), reads, path
                ),
            }
            with AuditSink(log) as sink:
                audited = EnforcementPoint(pdp, audit=sink)
                result["patient_guarded_audited_us"] = per_read_us(
                    router, lambda: audited.guard(P1), reads // 5, path
                )
            base = result["unguarded_us"]
            for key in ("patient_guarded_us", "professional_guarded_us"):
                result[key.replace("_us", "_overhead_pct")] = round(
                    (result[key] / base - 1) * 100, 1
                )
            return result
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "reads": args.reads,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            results[backend] = bench_backend(backend, args.reads, Path(tmp))
            print(backend, results[backend], flush=True)
    out = ROOT / "bench" / "results" / "pep.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
