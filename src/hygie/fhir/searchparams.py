"""The search parameters Hygie indexes: the official FHIR R4 SearchParameter definitions.

Loaded once from ``data/search-parameters.json`` (built by scripts/build_search_parameters.py
from the HL7 definitions), plus the few that implementation guides Hygie follows define
(:data:`PROFILE_PARAMS`). ``_id`` and ``_lastUpdated`` are answered from the resource
table itself; every other parameter is indexed from its FHIRPath expression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

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


# Defined by implementation guides rather than FHIR R4 itself: IHE MHD's Find Document
# References (ITI-67) searches DocumentReference by the document's creation time.
PROFILE_PARAMS: tuple[tuple[str, SearchParam], ...] = (
    (
        "DocumentReference",
        SearchParam(
            "creation",
            "date",
            "DocumentReference.content.attachment.creation",
            (),
            "https://profiles.ihe.net/ITI/MHD/SearchParameter/DocumentReference-Creation",
        ),
    ),
)


class SearchParamRegistry:
    """Search parameters by resource type and code.

    Types with no parameters of their own (Binary, Bundle...) still get the generic ones
    that apply to every resource (_id, _lastUpdated, _tag, _profile, _security, _source).
    """

    def __init__(
        self,
        by_type: dict[str, dict[str, SearchParam]],
        generic: list[dict[str, Any]] | None = None,
    ) -> None:
        self._by_type = by_type
        self._generic = generic or []
        self._generic_only: dict[str, dict[str, SearchParam]] = {}

    @property
    def resource_types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    def for_type(self, resource_type: str) -> dict[str, SearchParam]:
        params = self._by_type.get(resource_type) or self._generic_only.get(resource_type)
        if params is None:
            params = _generic_params(resource_type, self._generic)
            self._generic_only[resource_type] = params
        return params

    def get(self, resource_type: str, code: str) -> SearchParam | None:
        return self.for_type(resource_type).get(code)

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
        by_type[resource_type].update(_generic_params(resource_type, raw["generic"]))
    for resource_type, param in PROFILE_PARAMS:
        by_type[resource_type][param.code] = param
    return SearchParamRegistry(by_type, raw["generic"])


def _generic_params(resource_type: str, generic: list[dict[str, Any]]) -> dict[str, SearchParam]:
    """The parameters of every resource, with their expression bound to ``resource_type``."""
    return {
        p["code"]: SearchParam(
            p["code"],
            p["type"],
            p["expression"].replace(f"{p['base']}.", f"{resource_type}.", 1),
            (),
            p["url"],
        )
        for p in generic
    }
