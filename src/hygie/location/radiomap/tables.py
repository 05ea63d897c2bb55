"""The stored radio map: survey imports, the access point list, and one row per fingerprint.

A fingerprint keeps only the access points it heard (about 18 of 520 in UJIIndoorLoc) as two
little-endian blobs of the same length: ``aps`` (uint32 column numbers into
``location_radiomap_ap``) and ``rssi`` (float32 dBm). For 20k fingerprints that is ~2 MB
instead of 42 MB for dense float32 vectors, and loading is one query plus three numpy calls
(no per-value Python work, unlike a JSON object per row).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
)

from hygie.db.schema import SeqType, metadata

# One row per import still in the map; ``seq`` is never reused (AUTOINCREMENT on SQLite, an
# identity on PostgreSQL), so the largest one is the map's version.
location_radiomap_import = Table(
    "location_radiomap_import",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("fingerprints", Integer, nullable=False),
    Column("imported_at_us", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

location_radiomap_ap = Table(
    "location_radiomap_ap",
    metadata,
    Column("column_no", Integer, primary_key=True, autoincrement=False),
    Column("ap_id", String(64), nullable=False, unique=True),
)

location_radiomap_fingerprint = Table(
    "location_radiomap_fingerprint",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column(
        "import_seq",
        BigInteger,
        # named here: the naming convention's name would pass PostgreSQL's 63-character limit
        ForeignKey("location_radiomap_import.seq", name="fk_location_radiomap_fingerprint_import"),
        nullable=False,
    ),
    Column("building", String(32), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("aps", LargeBinary, nullable=False),
    Column("rssi", LargeBinary, nullable=False),
)
