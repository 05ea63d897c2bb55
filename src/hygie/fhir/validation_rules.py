"""Business rules some resource types must meet beyond their FHIR structure (422).

The engine knows no domain: the composition root hands the store a :class:`ResourceRules`
(e.g. the INS checks of ``hygie.identity`` for Patient), which :func:`validation.validate`
runs once the structure is valid. A rule returns the problems it finds as Issues with
their FHIRPath location; any problem refuses the write with 422 Unprocessable Entity, as
the FHIR REST spec prescribes for a resource that breaks a business rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hygie.fhir.errors import FhirError, Issue

# A structurally valid resource -> what is wrong with it (nothing: an empty sequence).
ResourceRule = Callable[[dict[str, Any]], Sequence[Issue]]


class ResourceRules:
    """Rules per resource type, run in order; all their problems are reported together."""

    def __init__(self, rules: Mapping[str, Sequence[ResourceRule]]) -> None:
        self._rules = {resource_type: tuple(some) for resource_type, some in rules.items()}

    def check(self, resource: dict[str, Any]) -> None:
        issues = [
            issue
            for rule in self._rules.get(resource["resourceType"], ())
            for issue in rule(resource)
        ]
        if issues:
            raise FhirError(422, issues)
