"""FHIR errors are OperationOutcome values: services raise them, the HTTP edge maps the status.

``FhirError(status, issues)`` is the only exception the FHIR engine lets out on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: what is wrong (``code``), in words, and where (FHIRPath)."""

    code: str  # http://hl7.org/fhir/issue-type, e.g. invalid, required, not-found
    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: Severity = "error"

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


class FhirError(Exception):
    """A request the engine refuses; ``status`` is the HTTP status the spec prescribes."""

    def __init__(self, status: int, issues: list[Issue] | Issue) -> None:
        self.status = status
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__("; ".join(i.diagnostics for i in self.issues))

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


def bad_request(message: str, *expression: str, code: str = "invalid") -> FhirError:
    return FhirError(400, Issue(code, message, expression))


def not_found(resource_type: str, resource_id: str | None = None) -> FhirError:
    what = f"{resource_type}/{resource_id}" if resource_id else resource_type
    return FhirError(404, Issue("not-found", f"{what} is not known to this server"))


def unprocessable(issues: list[Issue]) -> FhirError:
    return FhirError(422, issues)
