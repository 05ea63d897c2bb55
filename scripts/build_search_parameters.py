"""Build src/hygie/fhir/data/search-parameters.json from the official FHIR R4 definitions.

Input: the SearchParameter Bundle published with FHIR R4 4.0.1 (search-parameters.json,
CC0; a copy with its provenance lies in ../shared/data/fhir/definitions/). Output: the same
parameters, one per (resource type, code), each keeping its FHIRPath expression restricted
to that resource type. Run it again when the definitions change:

    python scripts/build_search_parameters.py ../shared/data/fhir/definitions/search-parameters.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "src/hygie/fhir/data/search-parameters.json"
SUPPORTED_TYPES = {"string", "token", "reference", "date", "number", "quantity", "uri"}


def split_union(expression: str) -> list[str]:
    """Split a FHIRPath expression on its top-level ``|`` (not inside parentheses or quotes)."""
    parts, depth, quote, current = [], 0, False, []
    for char in expression:
        if char == "'":
            quote = not quote
        elif not quote and char == "(":
            depth += 1
        elif not quote and char == ")":
            depth -= 1
        elif not quote and depth == 0 and char == "|":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def for_type(expression: str, resource_type: str, base: str) -> str:
    """The parts of ``expression`` that apply to ``resource_type``."""
    kept = []
    for part in split_union(expression):
        bare = part.lstrip("(")
        if bare.startswith(f"{resource_type}."):
            kept.append(part)
        elif base in ("Resource", "DomainResource") and bare.startswith(f"{base}."):
            kept.append(part.replace(f"{base}.", f"{resource_type}.", 1))
    return " | ".join(kept)


def main(source: str) -> None:
    bundle = json.loads(Path(source).read_text(encoding="utf-8"))
    out: dict[str, Any] = {"generic": [], "byType": {}}
    for entry in bundle["entry"]:
        sp = entry["resource"]
        if sp["type"] not in SUPPORTED_TYPES or not sp.get("expression"):
            continue
        record = {
            "code": sp["code"],
            "type": sp["type"],
            "url": sp["url"],
            "target": sorted(sp.get("target", [])),
        }
        for base in sp["base"]:
            if base in ("Resource", "DomainResource"):
                out["generic"].append({**record, "base": base, "expression": sp["expression"]})
                continue
            expression = for_type(sp["expression"], base, base)
            if expression:
                out["byType"].setdefault(base, []).append({**record, "expression": expression})
    for params in out["byType"].values():
        params.sort(key=lambda p: p["code"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(len(v) for v in out["byType"].values())
    print(f"{OUT}: {len(out['byType'])} resource types, {total} parameters")


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else "../shared/data/fhir/definitions/search-parameters.json"
    )
