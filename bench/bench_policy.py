"""Policy decision point: CPU microseconds per decision, memo miss (Cedar runs) and hit.

Writes bench/results/policy.json. Times are thread CPU time (time.thread_time), so that
other processes on a shared machine do not inflate them; the median of several rounds.

    uv run python bench/bench_policy.py [--decisions 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import cedarpy

from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext
from hygie.security.policy import CedarDecisionPoint, ResourceFacts
from hygie.security.policy.pdp import cedar_context
from hygie.security.scopes import parse_scopes

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_800_000_000


def per_call_us(run: Callable[[int], None], decisions: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        run(decisions)
        samples.append((time.thread_time() - start) / decisions * 1e6)
    return round(statistics.median(samples), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    pdp = CedarDecisionPoint.load(clock=lambda: NOW)
    load_ms = (time.perf_counter() - start) * 1000
    doctor = Principal(
        PrincipalKind.PRACTITIONER,
        "acc-d1",
        fhir_ref="Practitioner/d1",
        organization_ref="Organization/chu",
        roles=frozenset({"physician"}),
    )
    ctx = RequestContext(doctor, Aal.TWO, NOW - 60, "internal", scopes=parse_scopes("user/*.cruds"))
    facts = ResourceFacts("Observation", "o1", "Patient/p1", care_relationship=True)
    assert pdp.decide(ctx, "fhir.read", facts).allowed

    patients = itertools.count()

    def misses(n: int) -> None:
        # A different patient each time: every decision is evaluated by Cedar.
        for _ in range(n):
            pdp.decide(ctx, "fhir.read", replace(facts, patient_ref=f"Patient/m{next(patients)}"))

    def hits(n: int) -> None:
        # Repeated reads of one patient's record within the same second.
        for _ in range(n):
            pdp.decide(ctx, "fhir.read", facts)

    def cedar_only(n: int) -> None:
        context = cedar_context(ctx, facts, "r", now=NOW)
        request, entities = pdp.cedar_request(ctx, "fhir.read", facts, context)
        for _ in range(n):
            cedarpy.is_authorized(request, pdp._loaded.policy_set, entities)

    results = {
        "benchmark": "policy decision point (Cedar via cedarpy)",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "cedarpy": version("cedarpy"),
        "policies": len(pdp._loaded.policies),
        "load_and_validate_ms": round(load_ms, 1),
        "decide_us_cache_miss": per_call_us(misses, args.decisions, args.rounds),
        "decide_us_cache_hit": per_call_us(hits, args.decisions, args.rounds),
        "cedar_is_authorized_us_prebuilt_request": per_call_us(
            cedar_only, args.decisions, args.rounds
        ),
        "decisions_per_round": args.decisions,
        "rounds": args.rounds,
        "clock": "time.thread_time (CPU of this thread), median of rounds",
    }
    out = ROOT / "bench" / "results" / "policy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
