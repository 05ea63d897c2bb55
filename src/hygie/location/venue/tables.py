"""The venue table: one row per imported IMDF venue, the archive kept whole as JSON.

Maps are read whole (to draw a level or build the routing graph) and replaced whole on
re-import, so one row per venue is the simplest shape that serves both. The FHIR Location
resources made from the archive live in the FHIR store, not here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table

from hygie.db.schema import SeqType, metadata

location_venue = Table(
    "location_venue",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("venue_id", String(64), nullable=False, unique=True),  # the IMDF venue feature id
    Column("name", String(200), nullable=False),
    Column("digest", String(64), nullable=False),  # sha256 of content: the graph cache key
    Column("content", LargeBinary, nullable=False),  # {"manifest": ..., "features": ...}
    Column("imported_at", BigInteger, nullable=False),  # microseconds since the epoch, UTC
)
