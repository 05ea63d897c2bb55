"""A FHIR interaction as plain values, independent of any web framework."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

FHIR_JSON = "application/fhir+json; charset=utf-8"


@dataclass(frozen=True)
class FhirRequest:
    method: str  # GET, POST, PUT, DELETE
    path: str  # below the FHIR base, without slashes at either end: "Patient/123/_history/2"
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class FhirResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = FHIR_JSON

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> FhirResponse:
        return cls(status, orjson.dumps(payload), headers or {})
