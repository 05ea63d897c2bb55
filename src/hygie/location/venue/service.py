"""Venue use cases: import (validate, store, link to FHIR), export, read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hygie.db.engine import Database
from hygie.location.venue.archive_io import read_archive, write_directory, write_zip
from hygie.location.venue.fhir_links import IMDF_SYSTEM, link_locations
from hygie.location.venue.model import ImdfArchive
from hygie.location.venue.storage import VenueSummary, list_venues, load_venue, save_venue
from hygie.location.venue.validation import validate

if TYPE_CHECKING:
    from hygie.fhir.store import FhirStore


@dataclass(frozen=True, slots=True)
class ImportResult:
    venue: VenueSummary
    locations: dict[str, str]  # IMDF feature id -> FHIR Location id


def import_venue(
    database: Database, store: FhirStore, source: Path | bytes | ImdfArchive
) -> ImportResult:
    """Validate an IMDF archive, then store it and its FHIR Locations in one transaction.

    Raises :class:`ImdfError` (nothing stored) when the archive is not valid.
    """
    archive = source if isinstance(source, ImdfArchive) else read_archive(source)
    validate(archive)
    with store.transaction() as tx:
        locations = link_locations(tx, archive)
        summary = save_venue(tx.conn, archive)
    return ImportResult(summary, locations)


def venues(database: Database) -> list[VenueSummary]:
    with database.read() as conn:
        return list_venues(conn)


def read_venue(database: Database, venue_id: str) -> ImdfArchive:
    with database.read() as conn:
        return load_venue(conn, venue_id)


def export_venue(database: Database, venue_id: str, directory: Path | None = None) -> bytes:
    """The venue as an IMDF zip; also written out as .geojson files when given a directory."""
    archive = read_venue(database, venue_id)
    if directory is not None:
        write_directory(archive, directory)
    return write_zip(archive)


def feature_id_of_location(store: FhirStore, location_id: str) -> str | None:
    """The IMDF feature a FHIR Location was made from, or None (a Location of another origin)."""
    resource = store.read("Location", location_id).resource()
    for identifier in resource.get("identifier", []):
        if identifier.get("system") == IMDF_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None
