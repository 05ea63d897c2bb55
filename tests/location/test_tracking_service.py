"""The tracking service on SQLite and PostgreSQL: where assets are, where they went, what the
ward is told when they move, and which pump a nurse should fetch."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from hygie.db.engine import Database
from hygie.fhir.store import FhirStore
from hygie.location.positioning import Positioner, read_radio_map
from hygie.location.tracking.geofence import Debounce
from hygie.location.tracking.model import Fix, Place, TagReport, TrackingError, Zone, ZoneEvent
from hygie.location.tracking.service import TrackingService
from tests.conftest import backends

# A ward on level 3 of building A: ward 3B (service, 0..40 x 0..20) holds rooms 301
# (0..10 x 0..10) and 302 (12..22 x 0..10); decontamination is at 50..60 x 0..10.
T0 = (time.time_ns() // 1000) - 3600 * 1_000_000  # an hour ago, in µs


def square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def build_ward(service: TrackingService, store: FhirStore) -> dict[str, str]:
    """Zones and their FHIR Locations; returns zone id -> Location id."""
    locations = {}
    for zone_id, name in (("room-301", "Chambre 301"), ("room-302", "Chambre 302")):
        created = store.create({"resourceType": "Location", "name": name, "status": "active"})
        locations[zone_id] = created.stored.id
    service.add_zone(Zone("ward-3b", "Cardiologie 3B", "service", "A", 3, square(0, 0, 40, 20)))
    service.add_zone(
        Zone(
            "room-301",
            "Chambre 301",
            "room",
            "A",
            3,
            square(0, 0, 10, 10),
            0.5,
            locations["room-301"],
        )
    )
    service.add_zone(
        Zone(
            "room-302",
            "Chambre 302",
            "room",
            "A",
            3,
            square(12, 0, 22, 10),
            0.5,
            locations["room-302"],
        )
    )
    service.add_zone(
        Zone("decon", "Décontamination", "decontamination", "A", 3, square(50, 0, 60, 10))
    )
    return locations


def at(tag: str, seconds: float, x: float, y: float, level: int = 3) -> TagReport:
    fix = Fix(Place("A", level, x, y), 2.0, from_scan=False)
    return TagReport(tag, T0 + round(seconds * 1_000_000), fix=fix)


def stay(tag: str, start_s: float, x: float, y: float, count: int = 3) -> list[TagReport]:
    return [at(tag, start_s + i, x, y) for i in range(count)]


@pytest.fixture
def store(database: Database) -> FhirStore:
    return FhirStore(database)


@pytest.fixture
def service(database: Database, store: FhirStore) -> TrackingService:
    return TrackingService(database, store, debounce=Debounce(3, 30, 3, 30))


@backends
def test_where_is_history_and_device_location_change_only_with_the_room(
    service: TrackingService, store: FhirStore
) -> None:
    locations = build_ward(service, store)
    pump = service.register_asset("PUMP-1", "infusion-pump", "Pompe 1", home_zone_id="ward-3b")
    service.ingest(stay("PUMP-1", 0, 5, 5, count=6))  # settles in room 301
    service.ingest(stay("PUMP-1", 10, 17, 5, count=6))  # wheeled to room 302

    where = service.where_is("PUMP-1")
    assert (where.fix.place, where.t_us) == (Place("A", 3, 17, 5), T0 + 15_000_000)
    assert set(where.zone_ids) == {"ward-3b", "room-302"}
    assert where.location_id == locations["room-302"]
    device = store.read("Device", pump.device_id)
    assert device.resource()["location"]["reference"] == f"Location/{locations['room-302']}"
    assert device.version == 3  # created, moved to 301, moved to 302: not once per fix

    history = service.history("PUMP-1", T0 + 4_000_000, T0 + 11_000_000)
    assert [(s.t_us - T0) // 1_000_000 for s in history] == [4, 5, 10, 11]
    assert [s.fix.place.x for s in history] == [5, 5, 17, 17]


@backends
def test_events_and_alerts_are_stored_published_and_queryable(
    service: TrackingService, store: FhirStore
) -> None:
    build_ward(service, store)
    service.register_asset("PUMP-7", "infusion-pump", "Pompe 7", home_zone_id="ward-3b")
    heard: list[ZoneEvent] = []
    service.subscribe(heard.append)
    service.ingest(stay("PUMP-7", 0, 30, 15))
    service.ingest(stay("PUMP-7", 10, 55, 5))  # out of the ward, into decontamination

    kinds = [(e.zone_id, e.kind, e.rule) for e in heard]
    assert kinds == [
        ("ward-3b", "enter", None),
        ("ward-3b", "leave", None),
        ("ward-3b", "alert", "left-home-service"),
        ("decon", "enter", None),
        ("decon", "alert", "entered-decontamination"),
    ]
    stored = service.events(tag_id="PUMP-7")
    assert [(e.zone_id, e.kind, e.rule) for e in stored] == kinds
    assert [e.kind for e in service.events(zone_id="decon")] == ["enter", "alert"]
    assert service.events(zone_id="ward-3b", since_us=T0 + 5_000_000)[0].kind == "leave"


@backends
def test_a_batch_with_one_unknown_tag_stores_nothing(
    service: TrackingService, store: FhirStore
) -> None:
    build_ward(service, store)
    service.register_asset("BED-1", "bed", "Lit 1")
    with pytest.raises(TrackingError) as raised:
        service.ingest([*stay("BED-1", 0, 5, 5), at("NOPE-9", 1, 5, 5)])
    assert raised.value.status == 404 and "NOPE-9" in raised.value.message
    assert service.history("BED-1", T0, T0 + 10**9) == []
    with pytest.raises(TrackingError, match="not reported a position"):
        service.where_is("BED-1")


def test_late_fixes_reach_history_but_not_the_current_position(
    service: TrackingService, store: FhirStore
) -> None:
    build_ward(service, store)
    service.register_asset("WC-1", "wheelchair", "Fauteuil 1")
    service.ingest([at("WC-1", 20, 5, 5)])
    service.ingest([at("WC-1", 10, 17, 5)])  # buffered by the tag, delivered late
    assert service.where_is("WC-1").fix.place.x == 5
    assert len(service.history("WC-1", T0, T0 + 60_000_000)) == 2


def test_a_restarted_service_resumes_zone_membership(
    database: Database, service: TrackingService, store: FhirStore
) -> None:
    build_ward(service, store)
    service.register_asset("MON-1", "monitor", "Moniteur 1")
    service.ingest(stay("MON-1", 0, 5, 5))
    restarted = TrackingService(database, store, debounce=Debounce(3, 30, 3, 30))
    result = restarted.ingest(stay("MON-1", 10, 30, 15))  # leaves room 301, stays in the ward
    assert [(e.zone_id, e.kind) for e in result.events] == [("room-301", "leave")]
    assert restarted.where_is("MON-1").location_id is None


class OnlyTheseReachable:
    """A stand-in route model: the corridor to other pumps is closed (say, by works)."""

    def __init__(self, reachable: set[float]) -> None:
        self.reachable = reachable

    def distances(self, origin: Place, targets: Sequence[Place]) -> list[float | None]:
        return [abs(t.x - origin.x) if t.x in self.reachable else None for t in targets]


@backends
def test_nearest_available_pump(
    database: Database, service: TrackingService, store: FhirStore
) -> None:
    build_ward(service, store)
    for tag, x, level in (
        ("P-BUSY", 6, 3),  # closest, but in use
        ("P-BROKEN", 7, 3),  # close, but its Device is inactive
        ("P-BELOW", 5, 2),  # straight below room 301: one level change away
        ("P-FAR", 25, 3),  # same level, 20 m away
    ):
        service.register_asset(tag, "infusion-pump", tag)
        service.ingest([at(tag, 0, x, 5, level=level)])
    service.register_asset("BED-9", "bed", "Lit 9")
    service.ingest([at("BED-9", 0, 5, 5)])
    service.set_in_use("P-BUSY", True)
    broken = service.asset("P-BROKEN").device_id
    device = store.read("Device", broken).resource()
    store.update("Device", broken, {**device, "status": "inactive"})

    room_301 = service.zone("room-301").centroid  # (5, 5) on level 3
    found = service.nearest_available("infusion-pump", room_301, limit=2)
    # 20 m along the corridor beats 0 m plus one level change (30 m by default).
    assert [(n.asset.tag_id, n.distance_m) for n in found] == [("P-FAR", 20.0), ("P-BELOW", 30.0)]

    routed = TrackingService(database, store, distance=OnlyTheseReachable({5.0}))
    assert [n.asset.tag_id for n in routed.nearest_available("infusion-pump", room_301)] == [
        "P-BELOW"
    ]
    service.set_in_use("P-BUSY", False)
    assert service.nearest_available("infusion-pump", room_301)[0].asset.tag_id == "P-BUSY"


def test_scans_are_located_by_the_real_positioning_engine(
    database: Database, store: FhirStore, shared_data: Path
) -> None:
    uji = shared_data / "ujiindoorloc"
    training = read_radio_map(uji / "trainingData.csv.gz")
    positioner = Positioner.fit(training.subset(np.asarray(training.building) == "1"))
    validation = read_radio_map(uji / "validationData.csv.gz")
    rows = [i for i in range(len(validation)) if validation.building[i] == "1"][:3]
    scans = [
        {
            ap: float(v)
            for ap, v in zip(validation.ap_ids, validation.rssi[i], strict=True)
            if v == v
        }
        for i in rows
    ]
    truth = Place("1", int(validation.level[rows[0]]), validation.x[rows[0]], validation.y[rows[0]])
    service = TrackingService(
        database, store, positioner=positioner, debounce=Debounce(3, 3600, 3, 3600)
    )
    direct = positioner.locate(scans[0])
    # The wing is drawn on the level the engine finds: level accuracy is its own tests' job.
    around = square(truth.x - 60, truth.y - 60, truth.x + 60, truth.y + 60)
    service.add_zone(Zone("wing", "Aile", "service", "1", direct.level, around, 2.0))
    service.register_asset("WC-9", "wheelchair", "Fauteuil 9")

    result = service.ingest([TagReport("WC-9", T0 + i, scan=scans[0]) for i in range(3)])
    where = service.where_is("WC-9")
    assert where.fix.from_scan and where.fix.place == Place("1", direct.level, direct.x, direct.y)
    assert math.hypot(where.fix.place.x - truth.x, where.fix.place.y - truth.y) < 30
    assert [(e.zone_id, e.kind) for e in result.events] == [("wing", "enter")]
    with pytest.raises(TrackingError, match="cannot be located"):
        service.ingest([TagReport("WC-9", T0 + 10, scan={"unknown-ap": -50.0})])
    assert len(service.history("WC-9", T0, T0 + 100)) == 3
