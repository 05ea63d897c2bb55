"""Tracking's own tables: the position stream and geofences, the architecture's exception
for high-rate data. The asset itself is a FHIR Device; ``location_asset`` only binds a tag
to it and caches the last fix, so that "where is X" is one indexed read."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from hygie.db.schema import SeqType, metadata

location_asset = Table(
    "location_asset",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("tag_id", String(64), nullable=False, unique=True),
    Column("device_id", String(64), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("home_zone_id", String(64), nullable=True),
    Column("in_use", Boolean, nullable=False, default=False),
    # The last fix (all NULL until the first one), microseconds since the epoch.
    Column("t_us", BigInteger, nullable=True),
    Column("building", String(32), nullable=True),
    Column("level", Integer, nullable=True),
    Column("x", Float, nullable=True),
    Column("y", Float, nullable=True),
    Column("uncertainty_m", Float, nullable=True),
    Column("from_scan", Boolean, nullable=True),
    # Zones the asset is confirmed inside (space-separated ids) and the FHIR Location
    # currently on its Device; both change only on enter/leave events.
    Column("zone_ids", Text, nullable=False, default=""),
    Column("location_id", String(64), nullable=True),
    Index("ix_location_asset_kind", "kind"),
)

# One row per fix: no primary key, so that an insert is an append to the heap.
location_position = Table(
    "location_position",
    metadata,
    Column("asset_seq", Integer, nullable=False),
    Column("t_us", BigInteger, nullable=False),
    Column("building", String(32), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("uncertainty_m", Float, nullable=False),
    Column("from_scan", Boolean, nullable=False),
    Index("ix_location_position_asset_time", "asset_seq", "t_us"),
)

location_zone = Table(
    "location_zone",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("building", String(32), nullable=False),
    Column("level", Integer, nullable=False),
    Column("polygon", Text, nullable=False),  # JSON [[x, y], ...], ring not closed
    Column("margin_m", Float, nullable=False),
    Column("location_id", String(64), nullable=True),
)

location_zone_event = Table(
    "location_zone_event",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("t_us", BigInteger, nullable=False),
    Column("zone_id", String(64), nullable=False),
    Column("asset_seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # enter, leave or alert
    Column("rule", String(64), nullable=True),  # the alert rule, for kind = alert
    Index("ix_location_zone_event_zone_time", "zone_id", "t_us"),
    Index("ix_location_zone_event_asset_time", "asset_seq", "t_us"),
)
