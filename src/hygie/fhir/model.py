"""Plain values the FHIR engine hands around: a stored resource version and a write's result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from hygie.fhir.dates import format_instant


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One version of a resource as the store holds it; ``content`` is its JSON, meta included."""

    resource_type: str
    id: str
    version: int
    last_updated: int  # microseconds since the epoch, UTC
    content: bytes | None  # None for a deletion
    seq: int = 0  # the store's row number (stable, used for paging and the search index)

    @property
    def deleted(self) -> bool:
        return self.content is None

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def last_modified(self) -> str:
        return format_instant(self.last_updated)

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"

    def resource(self) -> dict[str, Any]:
        if self.content is None:
            raise ValueError(f"{self.reference} version {self.version} is a deletion")
        parsed: dict[str, Any] = orjson.loads(self.content)
        return parsed


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a create, update or delete did: the version written and whether it created."""

    stored: StoredResource
    created: bool = False
    unchanged: bool = False  # a conditional create that matched an existing resource
