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


def to_stored(row: Row[*tuple[Any, ...]] | tuple[Any, ...]) -> StoredResource:
    """A row of :data:`RESOURCE_COLUMNS` (a SQLAlchemy row or the driver's tuple)."""
    seq, resource_type, resource_id, version, last_updated, content = row
    return StoredResource(resource_type, resource_id, version, last_updated, content, seq)
