"""fhirpathpy for search expressions outside :mod:`hygie.fhir.fhirpath_fast`'s subset.

Slow (a tree walk per value) but complete. It reads expressions as the fast compiler
does: ``as`` is ``ofType`` (the R4 definitions apply it to collections), and
``resolve()`` yields a stub of the referenced type, as a search index must without
reading the target. Values come back with their FHIR type, like the fast branches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from hygie.fhir.references import parse_reference

Evaluator = Callable[[Mapping[str, Any]], list[tuple[str, Any]]]

_AS_OPERATOR = re.compile(r"\s+as\s+(`[^`]+`|[A-Za-z_][\w.]*)")


def _stub(resource_type: str) -> Any:
    return ResourceNode.create_node({"resourceType": resource_type})  # type: ignore[no-untyped-call]


def _resolve(references: list[Any]) -> list[Any]:
    stubs = []
    for reference in references:
        if isinstance(reference, Mapping):
            target = parse_reference(reference.get("reference") or "")
            if target is not None and target.target_type is not None:
                stubs.append(_stub(target.target_type))
    return stubs


_OPTIONS = {"userInvocationTable": {"resolve": {"fn": _resolve}}, "returnRawData": True}


def as_of_type(expression: str) -> str:
    """``(X as T)`` and ``X.as(T)`` spelled ``X.ofType(T)``."""
    return _AS_OPERATOR.sub(r".ofType(\1)", expression).replace(".as(", ".ofType(")


def _typed(node: Any) -> tuple[str, Any] | None:
    if isinstance(node, ResourceNode):
        info = node.get_type_info()  # type: ignore[no-untyped-call]
        if info is None or node.data is None:  # untyped, or a primitive with only extensions
            return None if node.data is None else _typed(node.data)
        return (info.name if info.namespace == "FHIR" else f"System.{info.name}"), node.data
    if isinstance(node, bool):
        return "boolean", node
    if isinstance(node, int):
        return "integer", node
    if isinstance(node, float):
        return "decimal", node
    if isinstance(node, str):
        return "string", node
    return None


def union_operands(expression: str) -> list[str]:
    """The operands of the outermost ``|`` unions: "A | (B | C)" -> ["A", "(B | C)"]."""
    operands, depth, quoted, start = [], 0, False, 0
    for position, char in enumerate(expression):
        if char == "'" and (position == 0 or expression[position - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and char == "|":
            operands.append(expression[start:position].strip())
            start = position + 1
    operands.append(expression[start:].strip())
    return operands


def compile_fallback(expression: str) -> Evaluator:
    """An evaluator returning (FHIR type, value) pairs; raises ValueError if unparsable.

    Each outermost union operand is evaluated on its own: fhirpathpy's union drops the
    type of the values it merges.
    """
    try:
        paths = [
            fhirpathpy.compile(as_of_type(operand), model=models["r4"], options=_OPTIONS)
            for operand in union_operands(expression)
        ]
    except Exception as exc:  # fhirpathpy reports syntax errors with bare Exceptions
        raise ValueError(f"cannot compile FHIRPath {expression!r}: {exc}") from None

    def evaluate(resource: Mapping[str, Any]) -> list[tuple[str, Any]]:
        found = (_typed(node) for path in paths for node in path(resource, None))
        return [pair for pair in found if pair is not None]

    return evaluate
