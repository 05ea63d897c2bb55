"""The search-index rows of a resource: one row per value of each of its search parameters.

Every write runs this, so it is built for speed: the FHIRPath of each parameter is
compiled once per resource type (:mod:`hygie.fhir.fhirpath_fast`), and for each typed
branch of it the value converter (:mod:`hygie.fhir.index_values`) is chosen at compile
time. Expressions outside the compiled subset run on fhirpathpy (none of the R4
definitions do; a custom registry may).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hygie.fhir.fhirpath_fallback import compile_fallback
from hygie.fhir.fhirpath_fast import UnsupportedExpression, compile_expression, type_lineage
from hygie.fhir.index_values import CONVERTERS, Converter, Tail
from hygie.fhir.searchparams import SearchParam, SearchParamRegistry

logger = logging.getLogger(__name__)

KINDS = ("string", "token", "reference", "date", "number", "quantity", "uri")
_COLUMNS: dict[str, tuple[str, ...]] = {
    "string": ("value", "exact"),
    "token": ("system", "code"),
    "reference": ("target_type", "target_id", "url"),
    "date": ("low", "high"),
    "number": ("low", "high"),
    "quantity": ("system", "code", "low", "high"),
    "uri": ("value",),
}


@dataclass(slots=True)
class IndexRows:
    """The index rows of one resource, by table, each row starting with its parameter."""

    strings: list[tuple[str, str, str]]  # (param, normalized value, exact value)
    tokens: list[tuple[str, str | None, str | None]]  # (param, system, code)
    references: list[tuple[str, str | None, str | None, str | None]]  # (param, type, id, url)
    dates: list[tuple[str, int, int]]  # (param, low_us, high_us)
    numbers: list[tuple[str, float, float]]  # (param, low, high)
    quantities: list[
        tuple[str, str | None, str | None, float, float]
    ]  # (param, system, code, lo, hi)
    uris: list[tuple[str, str]]  # (param, value)

    def by_kind(self) -> dict[str, Sequence[tuple[Any, ...]]]:
        """The rows keyed by index kind, as in ``schema.INDEX_TABLES``."""
        return dict(
            zip(
                KINDS,
                (
                    self.strings,
                    self.tokens,
                    self.references,
                    self.dates,
                    self.numbers,
                    self.quantities,
                    self.uris,
                ),
                strict=True,
            )
        )

    def table_rows(
        self, resource_seq: int, resource_type: str
    ) -> dict[str, list[dict[str, object]]]:
        """Keyed by kind, each row a dict column -> value for an executemany insert.

        Kinds with no rows are left out.
        """
        tables: dict[str, list[dict[str, object]]] = {}
        for kind, rows in self.by_kind().items():
            if rows:
                columns = ("param", *_COLUMNS[kind])
                tables[kind] = [
                    {"resource_seq": resource_seq, "resource_type": resource_type}
                    | dict(zip(columns, row, strict=True))
                    for row in rows
                ]
        return tables


Select = Callable[[Mapping[str, Any]], list[Any]]
# A parameter's compiled extraction: its code, the position of its kind in KINDS, and the
# (root element, selector, converter) of its typed branches: a branch whose root element
# is absent from the resource is skipped without a call.
_Pair = tuple[str | None, Select, Converter]
_Plan = tuple[str, int, tuple[_Pair, ...]]


def converter_for(param_type: str, fhir_type: str) -> Converter | None:
    """How values of ``fhir_type`` index for a ``param_type`` parameter; None: they don't."""
    converters = CONVERTERS[param_type]
    for ancestor in type_lineage(fhir_type):
        if ancestor in converters:
            return converters[ancestor]
    return None


class Indexer:
    """Computes the index rows of resources; compiles each type's parameters on first use."""

    def __init__(self, registry: SearchParamRegistry) -> None:
        self.registry = registry
        self._plans: dict[str, tuple[_Plan, ...]] = {}
        self.fallback_params: list[SearchParam] = []  # those fhirpathpy evaluates

    def index(self, resource: Mapping[str, Any]) -> IndexRows:
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            raise ValueError("a FHIR resource needs a string resourceType")
        plans = self._plans.get(resource_type)
        if plans is None:
            plans = self._plans[resource_type] = self._compile(resource_type)
        found: tuple[list[tuple[Any, ...]], ...] = ([], [], [], [], [], [], [])
        for code, kind, pairs in plans:
            rows = found[kind]
            for root_key, select, convert in pairs:
                if root_key is not None and root_key not in resource:
                    continue
                try:
                    for value in select(resource):
                        for tail in convert(value):
                            rows.append((code, *tail))
                except (AttributeError, TypeError):  # a value not of its FHIR type
                    continue
        strings, tokens, references, dates, numbers, quantities, uris = (
            list(dict.fromkeys(rows)) for rows in found
        )
        return IndexRows(strings, tokens, references, dates, numbers, quantities, uris)

    def _compile(self, resource_type: str) -> tuple[_Plan, ...]:
        plans = []
        for param in self.registry.indexed(resource_type):
            pairs = self._compile_param(param, resource_type)
            if pairs:
                plans.append((param.code, KINDS.index(param.type), pairs))
        return tuple(plans)

    def _compile_param(self, param: SearchParam, resource_type: str) -> tuple[_Pair, ...]:
        try:
            branches = compile_expression(param.expression, resource_type)
        except UnsupportedExpression as reason:
            logger.info("%s.%s runs on fhirpathpy: %s", resource_type, param.code, reason)
            self.fallback_params.append(param)
            return ((None, compile_fallback(param.expression), typed_converter(param.type)),)
        pairs = []
        for branch in branches:
            converter = converter_for(param.type, branch.type)
            if converter is not None:
                pairs.append((branch.root_key, branch.select, converter))
        return tuple(pairs)


def typed_converter(param_type: str) -> Converter:
    """For (FHIR type, value) pairs whose type is known only at run time (fhirpathpy)."""

    def convert(pair: tuple[str, Any]) -> Sequence[Tail]:
        converter = converter_for(param_type, pair[0])
        return converter(pair[1]) if converter is not None else ()

    return convert
