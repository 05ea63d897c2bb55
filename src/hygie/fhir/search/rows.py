"""Reading ``fhir_resource`` rows as :class:`StoredResource` values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from hygie.db.schema import fhir_resource
from hygie.fhir.model import StoredResource

RESOURCE_COLUMNS = (
    fhir_resource.c.seq,
    fhir_resource.c.resource_type,
    fhir_resource.c.id,
    fhir_resource.c.version,
    fhir_resource.c.last_updated,
    fhir_resource.c.content,
)


def to_stored(row: Row[*tuple[Any, ...]]) -> StoredResource:
    return StoredResource(
        row.resource_type, row.id, row.version, row.last_updated, row.content, row.seq
    )
