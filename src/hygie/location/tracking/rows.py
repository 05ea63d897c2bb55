"""Reads of the tracking tables, turned into model values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select

from hygie.location.tracking.model import (
    Asset,
    AssetPosition,
    Fix,
    Place,
    PositionSample,
    Zone,
    ZoneEvent,
)
from hygie.location.tracking.tables import (
    location_asset,
    location_position,
    location_zone,
    location_zone_event,
)


def asset_from_row(row: Row[Any]) -> Asset:
    return Asset(
        row.seq, row.tag_id, row.device_id, row.kind, row.name, row.home_zone_id, row.in_use
    )


def position_from_row(row: Row[Any]) -> AssetPosition | None:
    if row.t_us is None:
        return None
    place = Place(row.building, row.level, row.x, row.y)
    return AssetPosition(
        asset_from_row(row),
        row.t_us,
        Fix(place, row.uncertainty_m, row.from_scan),
        tuple(row.zone_ids.split()),
        row.location_id,
    )


def zone_from_row(row: Row[Any]) -> Zone:
    polygon = tuple((float(x), float(y)) for x, y in orjson.loads(row.polygon))
    return Zone(
        row.id, row.name, row.kind, row.building, row.level, polygon, row.margin_m, row.location_id
    )


def zone_values(zone: Zone) -> dict[str, Any]:
    return {
        "id": zone.id,
        "name": zone.name,
        "kind": zone.kind,
        "building": zone.building,
        "level": zone.level,
        "polygon": orjson.dumps([[float(x), float(y)] for x, y in zone.polygon]).decode(),
        "margin_m": zone.margin_m,
        "location_id": zone.location_id,
    }


def all_assets(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(location_asset)).all())


def all_zones(conn: Connection) -> list[Zone]:
    return [zone_from_row(r) for r in conn.execute(select(location_zone).order_by("id"))]


def asset_row(conn: Connection, tag_id: str) -> Row[Any] | None:
    return conn.execute(select(location_asset).where(location_asset.c.tag_id == tag_id)).first()


def candidate_rows(conn: Connection, kind: str) -> Sequence[Row[Any]]:
    """Assets of ``kind`` that are not flagged in use and have reported a position."""
    return conn.execute(
        select(location_asset).where(
            location_asset.c.kind == kind,
            location_asset.c.in_use.is_(False),
            location_asset.c.t_us.is_not(None),
        )
    ).all()


def samples(
    conn: Connection, asset_seq: int, since_us: int, until_us: int, limit: int
) -> list[PositionSample]:
    p = location_position.c
    rows = conn.execute(
        select(location_position)
        .where(p.asset_seq == asset_seq, p.t_us >= since_us, p.t_us <= until_us)
        .order_by(p.t_us)
        .limit(limit)
    )
    return [
        PositionSample(
            r.t_us, Fix(Place(r.building, r.level, r.x, r.y), r.uncertainty_m, r.from_scan)
        )
        for r in rows
    ]


def zone_events(
    conn: Connection,
    *,
    zone_id: str | None,
    asset_seq: int | None,
    since_us: int | None,
    until_us: int | None,
    limit: int,
) -> list[ZoneEvent]:
    e, a = location_zone_event.c, location_asset.c
    query = select(location_zone_event, a.tag_id, a.device_id).join(
        location_asset, a.seq == e.asset_seq
    )
    if zone_id is not None:
        query = query.where(e.zone_id == zone_id)
    if asset_seq is not None:
        query = query.where(e.asset_seq == asset_seq)
    if since_us is not None:
        query = query.where(e.t_us >= since_us)
    if until_us is not None:
        query = query.where(e.t_us <= until_us)
    rows = conn.execute(query.order_by(e.t_us, e.seq).limit(limit))
    return [
        ZoneEvent(r.t_us, r.zone_id, r.tag_id, r.device_id, r.kind, r.rule, r.seq) for r in rows
    ]
