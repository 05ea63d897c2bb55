"""The search parameters Hygie indexes: the official FHIR R4 SearchParameter definitions.

Loaded once from ``data/search-parameters.json`` (built by scripts/build_search_parameters.py
from the HL7 definitions). ``_id`` and ``_lastUpdated`` are answered from the resource
table itself; every other parameter is indexed from its FHIRPath expression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

ParamType = Literal["string", "token", "reference", "date", "number", "quantity", "uri"]

# Answered from fhir_resource columns, never indexed.
COLUMN_PARAMS = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True)
class SearchParam:
    code: str
    type: ParamType
    expression: str  # FHIRPath restricted to this resource type, e.g. "Observation.code"
    targets: tuple[str, ...]  # resource types a reference parameter may point to
    url: str


class SearchParamRegistry:
    """Search parameters by resource type and code."""

    def __init__(self, by_type: dict[str, dict[str, SearchParam]]) -> None:
        self._by_type = by_type

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    def for_type(self, resource_type: str) -> dict[str, SearchParam]:
        return self._by_type.get(resource_type, {})

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self._by_type.get(resource_type, {}).get(code)

    def indexed(self, resource_type: str) -> list[SearchParam]:
        """The parameters whose values are written to the index tables."""
        return [p for p in self.for_type(resource_type).values() if p.code not in COLUMN_PARAMS]


@cache
def default_registry() -> SearchParamRegistry:
    raw = json.loads(
        resources.files("hygie.fhir").joinpath("data/search-parameters.json").read_text("utf-8")
    )
    by_type: dict[str, dict[str, SearchParam]] = {}
    for resource_type, params in raw["byType"].items():
        by_type[resource_type] = {
            p["code"]: SearchParam(
                p["code"], p["type"], p["expression"], tuple(p["target"]), p["url"]
            )
            for p in params
        }
        for generic in raw["generic"]:
            expression = generic["expression"].replace(
                f"{generic['base']}.", f"{resource_type}.", 1
            )
            by_type[resource_type][generic["code"]] = SearchParam(
                generic["code"], generic["type"], expression, (), generic["url"]
            )
    return SearchParamRegistry(by_type)
