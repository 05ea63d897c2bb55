"""The CapabilityStatement served at ``/fhir/metadata``: what this server really does."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from hygie import __version__
from hygie.fhir.searchparams import SearchParamRegistry
from hygie.fhir.validation import KNOWN_RESOURCE_TYPES

if TYPE_CHECKING:
    from hygie.fhir.store import FhirStore

_INTERACTIONS = [
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
]
_COLUMN_PARAMS = [
    ("_id", "token", "http://hl7.org/fhir/SearchParameter/Resource-id"),
    ("_lastUpdated", "date", "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated"),
]


def capability_statement(store: FhirStore, fhir_base: str) -> dict[str, Any]:
    return _statement(store.registry, fhir_base)


@cache
def _statement(registry: SearchParamRegistry, fhir_base: str) -> dict[str, Any]:
    resources = []
    revincludes: dict[str, list[str]] = {}
    for source in sorted(KNOWN_RESOURCE_TYPES):
        for param in registry.for_type(source).values():
            for target in param.targets:
                revincludes.setdefault(target, []).append(f"{source}:{param.code}")
    for resource_type in sorted(KNOWN_RESOURCE_TYPES):
        params = registry.for_type(resource_type)
        references = sorted(p.code for p in params.values() if p.type == "reference")
        resources.append(
            {
                "type": resource_type,
                "interaction": [{"code": code} for code in _INTERACTIONS],
                "versioning": "versioned-update",
                "readHistory": True,
                "updateCreate": True,
                "conditionalCreate": True,
                "conditionalUpdate": True,
                "conditionalDelete": "single",
                "searchInclude": [f"{resource_type}:{code}" for code in references],
                "searchRevInclude": revincludes.get(resource_type, []),
                "searchParam": [
                    {"name": p.code, "definition": p.url, "type": p.type}
                    for p in sorted(params.values(), key=lambda p: p.code)
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "software": {"name": "Hygie", "version": __version__},
        "implementation": {"description": "Hygie FHIR R4 server", "url": fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "patchFormat": [],
        "rest": [
            {
                "mode": "server",
                "resource": resources,
                "interaction": [
                    {"code": "transaction"},
                    {"code": "batch"},
                    {"code": "history-system"},
                ],
                "searchParam": [
                    {"name": name, "definition": url, "type": kind}
                    for name, kind, url in _COLUMN_PARAMS
                ],
            }
        ],
    }
