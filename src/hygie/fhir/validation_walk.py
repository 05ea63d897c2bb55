"""One pass over a resource's JSON against the element tables, collecting every problem.

Each problem becomes one Issue whose expression is a FHIRPath-like path with indexes,
e.g. ``Observation.component[1].code``. Issue codes: ``structure`` (unknown element,
wrong JSON shape, null or empty values, two types for one choice element), ``required``
(a 1..1 element missing), ``value`` (a primitive of the wrong type or format).
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from hygie.fhir.errors import Issue
from hygie.fhir.validation_primitives import describe
from hygie.fhir.validation_schema import (
    Element,
    Table,
    primitive_extension_model,
    resource_model,
    table_of,
)

MAX_DEPTH = 64  # JSON objects and arrays, the resource itself being level 1
MAX_ISSUES = 100  # enough to fix a resource; a hostile one does not get a megabyte of outcome


class TooDeep(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class Report:
    """The issues found so far; past MAX_ISSUES only their number is kept."""

    __slots__ = ("dropped", "issues")

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.dropped = 0

    def add(self, code: str, path: str, message: str, *more_paths: str) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(Issue(code, f"{path}: {message}", (path, *more_paths)))
        else:
            self.dropped += 1

    def outcome(self) -> list[Issue]:
        if not self.dropped:
            return self.issues
        more = Issue("too-costly", f"{self.dropped} more problems were not listed")
        return [*self.issues, more]


class Walker:
    __slots__ = ("known_types", "report")

    def __init__(self, report: Report, known_types: frozenset[str]) -> None:
        self.report = report
        self.known_types = known_types

    def walk_object(self, obj: dict[str, Any], table: Table, path: str, depth: int) -> None:
        """Judge one JSON object against ``table``; ``path`` names it, ``depth`` is its level.

        The hot loop of every write: child paths are only built on an error or a descent.
        """
        if depth > MAX_DEPTH:
            raise TooDeep(path)
        if not obj:
            self.report.add("structure", path, "empty object; omit the element instead")
            return
        elements = table.elements
        choices: list[Element] | None = None
        for key, value in obj.items():
            element = elements.get(key)
            if element is None:
                self._not_an_element(obj, key, value, table, path, depth)
                continue
            if element.choice is not None:
                choices = choices or []
                choices.append(element)
            if value is None:
                self.report.add("structure", f"{path}.{key}", "null is not allowed; omit it")
            elif element.many:
                self._array(obj, key, value, element, path, depth + 1)
            elif isinstance(value, list):
                self.report.add(
                    "structure", f"{path}.{key}", "expected a single value, got an array"
                )
            else:
                self._value(value, element, path, key, depth)
        for element in table.required:
            if element.name not in obj and (element.check is None or f"_{element.name}" not in obj):
                self.report.add("required", f"{path}.{element.name}", "required element is missing")
        if choices is not None and len(choices) > 1:
            self._choices(choices, path)

    def _array(
        self,
        obj: dict[str, Any],
        key: str,
        value: object,
        element: Element,
        path: str,
        depth: int,
    ) -> None:
        if not isinstance(value, list):
            self.report.add(
                "structure",
                f"{path}.{key}",
                f"expected an array, got {describe(value)} (the element repeats)",
            )
            return
        if not value:
            self.report.add("structure", f"{path}.{key}", "empty array; omit the element instead")
            return
        if depth > MAX_DEPTH:
            raise TooDeep(f"{path}.{key}")
        for index, item in enumerate(value):
            if item is None:
                if element.check is None or not _has_item(obj.get(f"_{key}"), index):
                    self.report.add(
                        "structure",
                        f"{path}.{key}[{index}]",
                        "null is only allowed in a primitive array whose _ array has an "
                        "extension at the same index",
                    )
            else:
                self._value(item, element, path, f"{key}[{index}]", depth)

    def _value(self, value: object, element: Element, path: str, key: str, depth: int) -> None:
        """One non-null value of ``element``, found at ``path.key`` in an object at ``depth``."""
        check = element.check
        if check is not None:
            problem = check(value)
            if problem is not None:
                code = "structure" if isinstance(value, dict | list) else "value"
                self.report.add(code, f"{path}.{key}", problem)
            elif element.codes is not None and value not in element.codes:
                allowed = ", ".join(sorted(element.codes))
                self.report.add(
                    "code-invalid", f"{path}.{key}", f"{value!r} is not one of: {allowed}"
                )
        elif not isinstance(value, dict):
            kind = "a resource" if element.any_resource else f"a {_type_label(element)} object"
            self.report.add("structure", f"{path}.{key}", f"expected {kind}, got {describe(value)}")
        elif element.any_resource:
            self.walk_resource(value, f"{path}.{key}", depth + 1)
        else:
            self.walk_object(value, table_of(element.model), f"{path}.{key}", depth + 1)

    def _choices(self, present: list[Element], path: str) -> None:
        by_prefix: dict[str, list[str]] = {}
        for element in present:
            by_prefix.setdefault(element.choice or "", []).append(element.name)
        for prefix, names in by_prefix.items():
            if len(names) > 1:
                paths = [f"{path}.{name}" for name in names]
                self.report.add(
                    "structure",
                    paths[0],
                    f"{prefix}[x] takes one type only, got {' and '.join(names)}",
                    *paths[1:],
                )

    def walk_resource(self, resource: dict[str, Any], path: str, depth: int) -> None:
        """A resource inside another (contained, Bundle.entry.resource): judged like the root."""
        resource_type = resource.get("resourceType")
        if resource_type is None:
            self.report.add("required", f"{path}.resourceType", "a resource needs a resourceType")
        elif not isinstance(resource_type, str) or resource_type not in self.known_types:
            self.report.add(
                "structure",
                f"{path}.resourceType",
                f"{resource_type!r} is not a FHIR R4 resource type this server stores",
            )
        else:
            self.walk_object(resource, table_of(resource_model(resource_type)), path, depth)

    def _not_an_element(
        self,
        obj: dict[str, Any],
        key: str,
        value: object,
        table: Table,
        path: str,
        depth: int,
    ) -> None:
        if key == "resourceType" and table.is_resource:
            return  # judged by whoever picked this table
        element = table.extensions.get(key)
        if element is not None:
            self._primitive_extension(obj, key, value, element, f"{path}.{key}", depth)
            return
        hint = get_close_matches(key, table.elements, n=1)
        also = f"; did you mean '{hint[0]}'?" if hint else ""
        self.report.add(
            "structure", f"{path}.{key}", f"unknown element '{key}' for {table.type_name}{also}"
        )

    def _primitive_extension(
        self, obj: dict[str, Any], key: str, value: object, element: Element, path: str, depth: int
    ) -> None:
        """``_birthDate``: the id and extensions of a primitive (json.html#primitive)."""
        table = table_of(primitive_extension_model())
        if value is None:
            self.report.add("structure", path, "null is not allowed; omit the element")
        elif not element.many:
            if isinstance(value, dict):
                self.walk_object(value, table, path, depth + 1)
            else:
                self.report.add("structure", path, f"expected an object, got {describe(value)}")
        elif not isinstance(value, list) or not value:
            self.report.add("structure", path, f"expected a non-empty array, got {describe(value)}")
        else:
            values = obj.get(element.name)
            if isinstance(values, list) and len(values) != len(value):
                self.report.add(
                    "structure",
                    path,
                    f"has {len(value)} items but {element.name} has {len(values)}; "
                    "the two arrays must line up",
                )
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    self.walk_object(item, table, f"{path}[{index}]", depth + 2)
                elif item is not None or not _has_item(values, index):
                    self.report.add(
                        "structure",
                        f"{path}[{index}]",
                        f"expected an object, got {describe(item)}",
                    )


def _has_item(values: object, index: int) -> bool:
    return isinstance(values, list) and index < len(values) and values[index] is not None


def _type_label(element: Element) -> str:
    return element.model.__name__ if element.model is not None else "complex"
