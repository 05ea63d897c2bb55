"""Asset tracking use cases: register assets, ingest tag reports, answer where things are.

The asset is a FHIR Device in the store; fixes go to the compact position stream. Ingestion
is batched end to end: one ``locate_many`` call for the scans, one vectorised geofence pass,
one write transaction (bulk inserts), and the Device is rewritten only when the room it is
in changes. Geofence state is kept in memory (rebuilt from ``location_asset.zone_ids`` on
start), so one process should own ingestion; reads can come from anywhere.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from sqlalchemy import bindparam, insert, select, update

from hygie.db.engine import Database
from hygie.fhir.errors import FhirError
from hygie.fhir.store import FhirStore
from hygie.location.tracking import rows
from hygie.location.tracking.devices import device_resource, relocate_device
from hygie.location.tracking.distance import DistanceModel, StraightLine
from hygie.location.tracking.geofence import (
    Crossing,
    Debounce,
    FenceState,
    GeofenceEngine,
    LocatedFix,
)
from hygie.location.tracking.model import (
    ASSET_KINDS,
    ZONE_KINDS,
    Asset,
    AssetPosition,
    Fix,
    IngestResult,
    NearestAsset,
    Place,
    Positioner,
    PositionSample,
    TagReport,
    TrackingError,
    Zone,
    ZoneEvent,
)
from hygie.location.tracking.reports import check_tag_id
from hygie.location.tracking.rules import DEFAULT_RULES, AlertRule
from hygie.location.tracking.tables import (
    location_asset,
    location_position,
    location_zone,
    location_zone_event,
)

log = logging.getLogger("hygie.location.tracking")
ZONE_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
Subscriber = Callable[[ZoneEvent], None]


def _now_us() -> int:
    return time.time_ns() // 1000


@dataclass(slots=True)
class _Live:
    """What ingestion keeps in memory for one asset."""

    asset: Asset
    last_t_us: int
    fence: FenceState
    location_id: str | None


class TrackingService:
    def __init__(
        self,
        database: Database,
        store: FhirStore,
        *,
        positioner: Positioner | None = None,
        debounce: Debounce | None = None,
        rules: Sequence[AlertRule] = DEFAULT_RULES,
        distance: DistanceModel | None = None,
        clock: Callable[[], int] = _now_us,
    ) -> None:
        self.database = database
        self.store = store
        self.positioner = positioner
        self.debounce = debounce or Debounce()
        self.rules = tuple(rules)
        self.distance: DistanceModel = distance or StraightLine()
        self.clock = clock
        self._lock = threading.RLock()
        self._live: dict[str, _Live] | None = None  # by tag id, loaded on first use
        self._engine: GeofenceEngine | None = None
        self._subscribers: list[Subscriber] = []

    # -- assets -----------------------------------------------------------------------
    def register_asset(
        self, tag_id: str, kind: str, name: str, *, home_zone_id: str | None = None
    ) -> Asset:
        """Create the asset's FHIR Device and bind the tag to it."""
        check_tag_id(tag_id)
        if kind not in ASSET_KINDS:
            raise TrackingError(422, f"kind must be one of {', '.join(sorted(ASSET_KINDS))}")
        if not 1 <= len(name) <= 200:
            raise TrackingError(422, "name must be 1 to 200 characters long")
        with self._lock:
            live = self._load()
            if tag_id in live:
                raise TrackingError(409, f"tag {tag_id!r} is already registered")
            if home_zone_id is not None:
                self.zone(home_zone_id)
            with self.store.transaction() as tx:
                device = tx.create(device_resource(tag_id, kind, name)).stored
                seq = tx.conn.execute(
                    insert(location_asset)
                    .values(
                        tag_id=tag_id,
                        device_id=device.id,
                        kind=kind,
                        name=name,
                        home_zone_id=home_zone_id,
                        in_use=False,
                        zone_ids="",
                    )
                    .returning(location_asset.c.seq)
                ).scalar_one()
            asset = Asset(seq, tag_id, device.id, kind, name, home_zone_id, False)
            live[tag_id] = _Live(asset, 0, FenceState(), None)
            return asset

    def asset(self, tag_id: str) -> Asset:
        with self._lock:
            live = self._load().get(tag_id)
        if live is None:
            raise TrackingError(404, f"no asset has tag {tag_id[:80]!r}")
        return live.asset

    def set_in_use(self, tag_id: str, in_use: bool) -> Asset:
        with self._lock:
            live = self._load().get(tag_id)
            if live is None:
                raise TrackingError(404, f"no asset has tag {tag_id[:80]!r}")
            with self.database.write() as conn:
                conn.execute(
                    update(location_asset)
                    .where(location_asset.c.seq == live.asset.seq)
                    .values(in_use=in_use)
                )
            live.asset = replace(live.asset, in_use=in_use)
            return live.asset

    # -- zones ------------------------------------------------------------------------
    def add_zone(self, zone: Zone) -> Zone:
        _check_zone(zone)
        if zone.location_id is not None:
            try:
                self.store.read("Location", zone.location_id)
            except FhirError:
                raise TrackingError(
                    422, f"location_id: Location/{zone.location_id} does not exist"
                ) from None
        with self._lock, self.database.write() as conn:
            exists = conn.execute(
                select(location_zone.c.id).where(location_zone.c.id == zone.id)
            ).first()
            if exists is not None:
                raise TrackingError(409, f"zone {zone.id!r} already exists")
            conn.execute(insert(location_zone).values(rows.zone_values(zone)))
            self._engine = None  # rebuilt with the new zone on next use
        return zone

    def zones(self) -> list[Zone]:
        with self.database.read() as conn:
            return rows.all_zones(conn)

    def zone(self, zone_id: str) -> Zone:
        with self.database.read() as conn:
            row = conn.execute(select(location_zone).where(location_zone.c.id == zone_id)).first()
        if row is None:
            raise TrackingError(404, f"no zone has id {zone_id[:80]!r}")
        return rows.zone_from_row(row)

    def zone_for_location(self, location_id: str) -> Zone:
        with self.database.read() as conn:
            row = conn.execute(
                select(location_zone).where(location_zone.c.location_id == location_id)
            ).first()
        if row is None:
            raise TrackingError(404, f"no zone stands for Location/{location_id[:80]}")
        return rows.zone_from_row(row)

    # -- events -----------------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every zone event once stored; returns the unsubscribe."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def events(
        self,
        *,
        zone_id: str | None = None,
        tag_id: str | None = None,
        since_us: int | None = None,
        until_us: int | None = None,
        limit: int = 1000,
    ) -> list[ZoneEvent]:
        asset_seq = None if tag_id is None else self.asset(tag_id).seq
        with self.database.read() as conn:
            return rows.zone_events(
                conn,
                zone_id=zone_id,
                asset_seq=asset_seq,
                since_us=since_us,
                until_us=until_us,
                limit=limit,
            )

    # -- ingestion --------------------------------------------------------------------
    def known_tags(self, tag_ids: Iterable[str]) -> set[str]:
        with self._lock:
            live = self._load()
        return {t for t in tag_ids if t in live}

    def ingest(self, reports: Sequence[TagReport]) -> IngestResult:
        """Locate, fence and store a batch of reports: all of them, or none if one is bad."""
        if not reports:
            return IngestResult(0)
        with self._lock:
            live = self._load()
            unknown = sorted({r.tag_id for r in reports if r.tag_id not in live})
            if unknown:
                shown = ", ".join(repr(t[:80]) for t in unknown[:5])
                raise TrackingError(404, f"unknown tags: {shown}; nothing was stored")
            fixes = self._locate(reports)
            order = sorted(range(len(reports)), key=lambda i: reports[i].t_us)
            fresh: list[LocatedFix] = []
            latest: dict[str, int] = {}  # tag -> index of its newest fix in this batch
            last_seen = {tag: live[tag].last_t_us for tag in {r.tag_id for r in reports}}
            for i in order:
                report = reports[i]
                if report.t_us > last_seen[report.tag_id]:  # late fixes only go to history
                    last_seen[report.tag_id] = report.t_us
                    latest[report.tag_id] = i
                    fresh.append(
                        LocatedFix(live[report.tag_id].asset.seq, report.t_us, fixes[i].place)
                    )
            by_seq = {live[tag].asset.seq: live[tag] for tag in latest}
            fences = {seq: item.fence.copy() for seq, item in by_seq.items()}
            crossings = self._fence_engine().evaluate(fresh, fences)
            events = self._events(crossings, by_seq)
            rooms = self._rooms(by_seq, fences)
            self._store(reports, fixes, latest, by_seq, fences, events, rooms)
            for tag, i in latest.items():
                item = live[tag]
                item.last_t_us = reports[i].t_us
                item.fence = fences[item.asset.seq]
                item.location_id = rooms.get(item.asset.seq, item.location_id)
        for event in events:
            self._publish(event)
        return IngestResult(len(reports), events)

    def _locate(self, reports: Sequence[TagReport]) -> list[Fix]:
        scans = [i for i, r in enumerate(reports) if r.fix is None]
        fixes = [r.fix for r in reports]
        if scans:
            if self.positioner is None:
                raise TrackingError(
                    503, "no positioning engine is configured: send positions, not scans"
                )
            ap_ids = sorted({ap for i in scans for ap in reports[i].scan or {}})
            column = {ap: c for c, ap in enumerate(ap_ids)}
            rssi = np.full((len(scans), len(ap_ids)), np.nan)
            for row, i in enumerate(scans):
                for ap, dbm in (reports[i].scan or {}).items():
                    rssi[row, column[ap]] = dbm
            try:
                located = self.positioner.locate_many(rssi, ap_ids)
            except ValueError as error:
                raise TrackingError(422, f"a scan cannot be located: {error}") from None
            for i, got in zip(scans, located, strict=True):
                place = Place(str(got.building), int(got.level), float(got.x), float(got.y))
                fixes[i] = Fix(place, float(got.uncertainty_m), from_scan=True)
        return [f for f in fixes if f is not None]

    def _events(self, crossings: list[Crossing], by_seq: dict[int, _Live]) -> list[ZoneEvent]:
        zones = self._fence_engine().index.zones
        events = []
        for c in crossings:
            asset, zone = by_seq[c.asset_seq].asset, zones[c.zone_id]
            events.append(ZoneEvent(c.t_us, c.zone_id, asset.tag_id, asset.device_id, c.kind))
            for rule in self.rules:
                if rule.fires(c.kind, asset, zone):
                    events.append(
                        ZoneEvent(
                            c.t_us, c.zone_id, asset.tag_id, asset.device_id, "alert", rule.name
                        )
                    )
        return events

    def _rooms(
        self, by_seq: dict[int, _Live], fences: dict[int, FenceState]
    ) -> dict[int, str | None]:
        """Assets whose room changed -> the FHIR Location of the smallest zone they are in."""
        zones = self._fence_engine().index.zones
        changed: dict[int, str | None] = {}
        for seq, item in by_seq.items():
            if fences[seq].inside == item.fence.inside:
                continue
            located = [zones[z] for z in fences[seq].inside if zones[z].location_id]
            room = min(located, key=lambda z: z.area).location_id if located else None
            if room != item.location_id:
                changed[seq] = room
        return changed

    def _store(
        self,
        reports: Sequence[TagReport],
        fixes: list[Fix],
        latest: dict[str, int],
        by_seq: dict[int, _Live],
        fences: dict[int, FenceState],
        events: list[ZoneEvent],
        rooms: dict[int, str | None],
    ) -> None:
        live = self._live or {}
        positions = [
            {
                "asset_seq": live[r.tag_id].asset.seq,
                "t_us": r.t_us,
                "building": f.place.building,
                "level": f.place.level,
                "x": f.place.x,
                "y": f.place.y,
                "uncertainty_m": f.uncertainty_m,
                "from_scan": f.from_scan,
            }
            for r, f in zip(reports, fixes, strict=True)
        ]
        current = [
            {
                **positions[i],
                "b_seq": positions[i]["asset_seq"],
                "zones": _zone_text(fences, live[tag]),
            }
            for tag, i in latest.items()
        ]
        a = location_asset.c
        with self.store.transaction() as tx:
            tx.conn.execute(insert(location_position), positions)
            if current:
                tx.conn.execute(
                    update(location_asset)
                    .where(a.seq == bindparam("b_seq"))
                    .values(
                        t_us=bindparam("t_us"),
                        building=bindparam("building"),
                        level=bindparam("level"),
                        x=bindparam("x"),
                        y=bindparam("y"),
                        uncertainty_m=bindparam("uncertainty_m"),
                        from_scan=bindparam("from_scan"),
                        zone_ids=bindparam("zones"),
                    ),
                    current,
                )
            if events:
                tx.conn.execute(
                    insert(location_zone_event),
                    [
                        {
                            "t_us": e.t_us,
                            "zone_id": e.zone_id,
                            "asset_seq": live[e.tag_id].asset.seq,
                            "kind": e.kind,
                            "rule": e.rule,
                        }
                        for e in events
                    ],
                )
            zones = self._fence_engine().index.zones
            for seq, location_id in rooms.items():
                item = by_seq[seq]
                tx.conn.execute(
                    update(location_asset).where(a.seq == seq).values(location_id=location_id)
                )
                name = next((z.name for z in zones.values() if z.location_id == location_id), None)
                relocate_device(tx, item.asset.device_id, location_id, name)

    def _publish(self, event: ZoneEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("zone event subscriber %r failed", subscriber)

    # -- questions --------------------------------------------------------------------
    def where_is(self, tag_id: str) -> AssetPosition:
        check_tag_id(tag_id)
        with self.database.read() as conn:
            row = rows.asset_row(conn, tag_id)
        if row is None:
            raise TrackingError(404, f"no asset has tag {tag_id!r}")
        position = rows.position_from_row(row)
        if position is None:
            raise TrackingError(404, f"asset {tag_id!r} has not reported a position yet")
        return position

    def history(
        self, tag_id: str, since_us: int, until_us: int, *, limit: int = 10_000
    ) -> list[PositionSample]:
        if since_us > until_us:
            raise TrackingError(422, "the history's start is after its end")
        asset = self.asset(tag_id)
        with self.database.read() as conn:
            return rows.samples(conn, asset.seq, since_us, until_us, limit)

    def nearest_available(self, kind: str, near: Place, *, limit: int = 1) -> list[NearestAsset]:
        """Closest assets of ``kind`` whose Device is active and that are not flagged in use."""
        if kind not in ASSET_KINDS:
            raise TrackingError(422, f"kind must be one of {', '.join(sorted(ASSET_KINDS))}")
        with self.database.read() as conn:
            candidates = [
                p for r in rows.candidate_rows(conn, kind) if (p := rows.position_from_row(r))
            ]
        distances = self.distance.distances(near, [c.fix.place for c in candidates])
        ranked = sorted(
            ((d, c) for d, c in zip(distances, candidates, strict=True) if d is not None),
            key=lambda pair: pair[0],
        )
        found: list[NearestAsset] = []
        for distance, candidate in ranked:
            device = self.store.read("Device", candidate.asset.device_id).resource()
            if device.get("status") == "active":
                found.append(NearestAsset(candidate.asset, candidate, distance))
                if len(found) == limit:
                    break
        return found

    # -- internals --------------------------------------------------------------------
    def _load(self) -> dict[str, _Live]:
        if self._live is None:
            with self.database.read() as conn:
                loaded = rows.all_assets(conn)
            self._live = {
                r.tag_id: _Live(
                    rows.asset_from_row(r),
                    r.t_us or 0,
                    FenceState(inside=set(r.zone_ids.split())),
                    r.location_id,
                )
                for r in loaded
            }
        return self._live

    def _fence_engine(self) -> GeofenceEngine:
        if self._engine is None:
            self._engine = GeofenceEngine(self.zones(), self.debounce)
        return self._engine


def _zone_text(fences: dict[int, FenceState], item: _Live) -> str:
    return " ".join(sorted(fences[item.asset.seq].inside))


def _check_zone(zone: Zone) -> None:
    if not ZONE_ID.match(zone.id):
        raise TrackingError(422, "id must be 1 to 64 of A-Z a-z 0-9 - .")
    if zone.kind not in ZONE_KINDS:
        raise TrackingError(422, f"kind must be one of {', '.join(sorted(ZONE_KINDS))}")
    if not 1 <= len(zone.name) <= 200 or not 1 <= len(zone.building) <= 32:
        raise TrackingError(422, "name must be 1 to 200 characters, building 1 to 32")
    if len(zone.polygon) < 3 or zone.area <= 0:
        raise TrackingError(422, "polygon must have at least 3 points enclosing some area")
    if not 0 <= zone.margin_m <= 50:
        raise TrackingError(422, "margin_m must be between 0 and 50 metres")
