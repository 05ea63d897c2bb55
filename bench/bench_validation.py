"""Cost of validating one resource on write, in microseconds, and resources per second.

Hygie's validator (hygie.fhir.validation) against driving the fhir.resources R4B pydantic
models directly (model_validate on the dict, model_validate_json on the bytes), which it
replaces; on typical resources and on every resource of the test data.

    uv run python bench/bench_validation.py [--data ../shared/data] [--rounds 7]

Writes bench/results/validation.json. Figures are the median of the rounds.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class

from hygie.fhir.validation import validate

REPO = Path(__file__).resolve().parents[1]


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(path.read_bytes())
    return loaded


def _samples(data: Path) -> dict[str, dict[str, Any]]:
    spec = data / "fhir" / "r4-spec-examples"
    big_document = _load(spec / "documentreference-example.json")
    # an inline 26 kB JPEG, as a client posting a document without a Binary does
    big_document["content"][0]["attachment"]["data"] = _load(spec / "binary-f006.json")["data"]
    return {
        "Observation (vital sign: heart rate)": _load(spec / "observation-example-heart-rate.json"),
        "Observation (blood pressure, 2 components)": _load(
            spec / "observation-example-bloodpressure.json"
        ),
        "Patient (spec example)": _load(spec / "patient-example.json"),
        "DocumentReference (spec example)": _load(spec / "documentreference-example.json"),
        "DocumentReference (big: inline 35 kB base64 attachment)": big_document,
    }


def _all_resources(data: Path) -> list[dict[str, Any]]:
    found = [_load(p) for p in sorted((data / "fhir" / "r4-spec-examples").glob("*.json"))]
    for bundle in sorted((data / "fhir" / "synthea-r4").glob("*.json")):
        found += [entry["resource"] for entry in _load(bundle)["entry"]]
    return found


def _median_us(run: Callable[[], object], count: int, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            run()
        timings.append((time.perf_counter() - start) / count * 1e6)
    return round(statistics.median(timings), 1)


def _iterations(resource: dict[str, Any]) -> int:
    return max(20, min(2000, 400_000 // len(orjson.dumps(resource))))


def measure(data: Path, rounds: int) -> dict[str, Any]:
    per_resource: dict[str, Any] = {}
    for label, resource in _samples(data).items():
        raw = orjson.dumps(resource)
        model = get_fhir_model_class(resource["resourceType"])
        count = _iterations(resource)
        validate(resource)
        per_resource[label] = {
            "bytes": len(raw),
            "hygie_validate_us": _median_us(partial(validate, resource), count, rounds),
            "fhir_resources_model_validate_dict_us": _median_us(
                partial(model.model_validate, resource), count, rounds
            ),
            "fhir_resources_model_validate_json_us": _median_us(
                partial(model.model_validate_json, raw), count, rounds
            ),
        }
    everything = _all_resources(data)
    for resource in everything:
        validate(copy.deepcopy(resource))  # the tables are built before timing

    def validate_all() -> None:
        for resource in everything:
            validate(resource)

    all_us = _median_us(validate_all, 1, rounds)
    return {
        "benchmark": "validation",
        "command": "uv run python bench/bench_validation.py",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rounds": rounds,
        "statistic": "median of rounds, microseconds per resource",
        "per_resource": per_resource,
        "all_test_resources": {
            "count": len(everything),
            "total_ms": round(all_us / 1000, 1),
            "mean_us": round(all_us / len(everything), 1),
            "resources_per_second": round(len(everything) / (all_us / 1e6)),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "validation.json")
    args = parser.parse_args()
    results = measure(args.data, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
