"""The demo venue, CHU Hygie, and its idempotent loader for ``hygie demo``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hygie.db.engine import Database
from hygie.location.venue.demo.hospital import demo_archive
from hygie.location.venue.service import ImportResult, import_venue

if TYPE_CHECKING:
    from hygie.fhir.store import FhirStore

__all__ = ["demo_archive", "load_demo_venue"]


def load_demo_venue(database: Database, store: FhirStore) -> ImportResult:
    """Import CHU Hygie's map; running it again updates the same venue and Locations."""
    return import_venue(database, store, demo_archive())
