"""Compare the two runs of bench/security_path_http.sh: the security path's share of FHIR
read throughput (issue 3's target: under 20%). Usage: security_path_compare.py BACKEND."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("read", "search-observation")


def compare(backend: str) -> dict[str, Any]:
    without = json.loads((RESULTS / f"fhir-hygie-without-security-{backend}.json").read_text())
    secured = json.loads((RESULTS / f"fhir-hygie-{backend}.json").read_text())
    out: dict[str, Any] = {
        "benchmark": "security path over HTTP: Hygie as served vs the same engine without it",
        "command": f"bash bench/security_path_http.sh {backend} {' '.join(sys.argv[2:])}".strip(),
        "backend": backend,
        "load": secured["metadata"]["options"],
    }
    for phase in PHASES:
        off, on = without["phases"][phase], secured["phases"][phase]
        out[phase] = {
            "without_per_second": off["per_second"],
            "with_per_second": on["per_second"],
            "cost_pct": round((1 - on["per_second"] / off["per_second"]) * 100, 1),
            "security_us_per_request": round(
                (1 / on["per_second"] - 1 / off["per_second"]) * 1e6, 1
            ),
            "p50_ms": {"without": off["p50_ms"], "with": on["p50_ms"]},
            "p99_ms": {"without": off["p99_ms"], "with": on["p99_ms"]},
            "errors": {"without": off["errors"], "with": on["errors"]},
            "server_cpu": {"without": off.get("server_cpu"), "with": on.get("server_cpu")},
        }
    return out


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    result = compare(backend)
    out = RESULTS / f"security-path-http-{backend}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for phase in PHASES:
        figures = result[phase]
        print(
            f"{phase}: {figures['without_per_second']}/s without, "
            f"{figures['with_per_second']}/s with: the security path costs "
            f"{figures['cost_pct']}% ({figures['security_us_per_request']} us per request)"
        )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
