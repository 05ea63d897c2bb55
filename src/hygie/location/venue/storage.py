"""Save and load venues in the ``location_venue`` table, inside the caller's transaction."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, insert, select, update

from hygie.location.venue.errors import UnknownVenue
from hygie.location.venue.model import ImdfArchive
from hygie.location.venue.tables import location_venue


@dataclass(frozen=True, slots=True)
class VenueSummary:
    venue_id: str
    name: str
    digest: str


def _content(archive: ImdfArchive) -> bytes:
    return orjson.dumps(archive.to_json(), option=orjson.OPT_SORT_KEYS)


def archive_digest(archive: ImdfArchive) -> str:
    return hashlib.sha256(_content(archive)).hexdigest()


def save_venue(conn: Connection, archive: ImdfArchive) -> VenueSummary:
    """Insert the venue or replace its archive; returns what is now stored."""
    content = _content(archive)
    digest = hashlib.sha256(content).hexdigest()
    values = {
        "name": archive.name[:200],
        "digest": digest,
        "content": content,
        "imported_at": time.time_ns() // 1000,
    }
    exists = conn.execute(
        select(location_venue.c.seq).where(location_venue.c.venue_id == archive.venue_id)
    ).first()
    if exists is None:
        conn.execute(insert(location_venue).values(venue_id=archive.venue_id, **values))
    else:
        conn.execute(
            update(location_venue)
            .where(location_venue.c.venue_id == archive.venue_id)
            .values(**values)
        )
    return VenueSummary(archive.venue_id, archive.name, digest)


def list_venues(conn: Connection) -> list[VenueSummary]:
    rows = conn.execute(
        select(location_venue.c.venue_id, location_venue.c.name, location_venue.c.digest).order_by(
            location_venue.c.name, location_venue.c.venue_id
        )
    )
    return [VenueSummary(row.venue_id, row.name, row.digest) for row in rows]


def venue_digest(conn: Connection, venue_id: str) -> str:
    digest = conn.execute(
        select(location_venue.c.digest).where(location_venue.c.venue_id == venue_id)
    ).scalar()
    if digest is None:
        raise UnknownVenue(venue_id)
    return str(digest)


def load_venue(conn: Connection, venue_id: str) -> ImdfArchive:
    content = conn.execute(
        select(location_venue.c.content).where(location_venue.c.venue_id == venue_id)
    ).scalar()
    if content is None:
        raise UnknownVenue(venue_id)
    return ImdfArchive.from_json(orjson.loads(content))
