"""Search-index extraction speed: microseconds per resource, over the real example resources.

    uv run python bench/bench_indexing.py [--rounds 20] [--data ../shared/data]

Indexes every example resource (HL7 R4 examples, French ANS examples, Synthea bundle
entries) with all its search parameters, after one warm-up pass that compiles the
expressions, and also the typical Observation (HL7 heart-rate) alone. For scale, the
same Observation is indexed once with fhirpathpy evaluating every parameter. Writes
bench/results/indexing.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from hygie.fhir.fhirpath_fallback import compile_fallback
from hygie.fhir.indexing import Indexer, typed_converter
from hygie.fhir.searchparams import default_registry

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "indexing.json"


def _with_entries(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield resource
    if resource.get("resourceType") == "Bundle":
        for entry in resource.get("entry", []):
            if "resource" in entry:
                yield entry["resource"]


def load_examples(data: Path) -> list[dict[str, Any]]:
    files = [
        *sorted((data / "fhir" / "r4-spec-examples").glob("*.json")),
        *sorted((data / "fhir-fr").glob("*/*.json")),
        *sorted((data / "fhir" / "synthea-r4").glob("*.json")),
    ]
    if not files:
        raise SystemExit(f"no example resources under {data}")
    return [r for path in files for r in _with_entries(orjson.loads(path.read_bytes()))]


def per_call_us(indexer: Indexer, resources: list[dict[str, Any]], rounds: int) -> list[float]:
    """Mean microseconds per resource, one figure per round."""
    figures = []
    for _ in range(rounds):
        start = time.perf_counter()
        for resource in resources:
            indexer.index(resource)
        figures.append((time.perf_counter() - start) / len(resources) * 1e6)
    return figures


def fhirpathpy_us(resource: dict[str, Any], rounds: int) -> float:
    """Microseconds to index ``resource`` with fhirpathpy evaluating every parameter."""
    registry = default_registry()
    params = registry.indexed(resource["resourceType"])
    compiled = [(p, compile_fallback(p.expression), typed_converter(p.type)) for p in params]
    start = time.perf_counter()
    for _ in range(rounds):
        for _param, evaluate, convert in compiled:
            for pair in evaluate(resource):
                convert(pair)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    resources = load_examples(args.data)
    indexer = Indexer(default_registry())
    rows = sum(sum(map(len, indexer.index(r).by_kind().values())) for r in resources)  # warm-up
    all_us = per_call_us(indexer, resources, args.rounds)

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in resources:
        by_type[resource["resourceType"]].append(resource)
    type_us = {
        name: round(statistics.median(per_call_us(indexer, group, max(args.rounds // 4, 3))), 1)
        for name, group in sorted(by_type.items())
    }

    heart_rate = orjson.loads(
        (
            args.data / "fhir" / "r4-spec-examples" / "observation-example-heart-rate.json"
        ).read_bytes()
    )
    observation_us = per_call_us(indexer, [heart_rate] * 2000, args.rounds)
    observation_fhirpathpy_us = fhirpathpy_us(heart_rate, 20)

    median_all = statistics.median(all_us)
    result = {
        "benchmark": "search-index extraction (hygie.fhir.indexing.Indexer.index)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "resources": len(resources),
        "index_rows": rows,
        "rounds": args.rounds,
        "all_examples_us_per_resource": {
            "median": round(median_all, 1),
            "min": round(min(all_us), 1),
            "max": round(max(all_us), 1),
        },
        "all_examples_resources_per_second": round(1e6 / median_all),
        "typical_observation_us": round(statistics.median(observation_us), 1),
        "typical_observation_fhirpathpy_us": round(observation_fhirpathpy_us, 1),
        "fallback_parameters": len(indexer.fallback_params),
        "us_per_resource_by_type": type_us,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
