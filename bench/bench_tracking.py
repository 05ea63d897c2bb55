"""Asset tracking throughput: fixes ingested per second, end to end.

1. service: TrackingService.ingest on a file SQLite database (synchronous=FULL), batches of
   1,000 reports from 500 assets walking across 120 zones on two levels (positions given);
2. scans: UJIIndoorLoc validation scans, located by the real positioning engine trained
   on the training file (one locate_many call per batch), then the same path;
3. mqtt: reports published to the real Mosquitto (127.0.0.1:1883) by a separate process
   at a fixed offered rate, one report per message, ingested by run_mqtt_ingest; time from
   the first publish to the last row stored, and how many were lost.

Usage: uv run python bench/bench_tracking.py [--fixes 50000]  ->  bench/results/tracking.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import func, select

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.fhir.store import FhirStore
from hygie.location.positioning import Positioner, read_radio_map
from hygie.location.tracking.model import Fix, Place, TagReport, Zone
from hygie.location.tracking.mqtt import run_mqtt_ingest
from hygie.location.tracking.service import TrackingService
from hygie.location.tracking.tables import location_position

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "tracking.json"
UJI = ROOT.parent / "shared" / "data" / "ujiindoorloc"
ASSETS = 500
BATCH = 1000


def fresh_service(tmp: Path, name: str) -> TrackingService:
    database = Database(make_engine(f"sqlite:///{tmp / name}.sqlite3"))
    upgrade(database.engine)
    positioner = Positioner.fit(read_radio_map(UJI / "trainingData.csv.gz"))
    service = TrackingService(database, FhirStore(database), positioner=positioner)
    for level in (0, 1):
        service.add_zone(
            Zone(f"service-{level}", "Service", "service", "A", level, square(0, 0, 200, 30))
        )
        for i in range(59):  # a corridor of rooms, 3 m wide
            zone = Zone(
                f"room-{level}-{i}",
                f"Room {i}",
                "room",
                "A",
                level,
                square(i * 3.4, 0, i * 3.4 + 3, 10),
                0.5,
            )
            service.add_zone(zone)
    service.add_zone(
        Zone("decon", "Décontamination", "decontamination", "A", 0, square(0, 20, 20, 30))
    )
    for a in range(ASSETS):
        service.register_asset(f"TAG-{a:04d}", "infusion-pump" if a % 2 else "bed", f"Asset {a}")
    return service


def square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def walks(n: int, start_us: int) -> list[TagReport]:
    """``n`` position reports: each asset drifts along the corridor at walking pace."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 200, ASSETS)
    y = rng.uniform(0, 30, ASSETS)
    out = []
    for i in range(n):
        a = i % ASSETS
        x[a] = (x[a] + rng.normal(0.8, 0.5)) % 200
        y[a] = min(max(y[a] + rng.normal(0, 0.5), 0), 30)
        fix = Fix(Place("A", a % 2, float(x[a]), float(y[a])), 3.0, from_scan=False)
        out.append(TagReport(f"TAG-{a:04d}", start_us + i * 200, fix=fix))
    return out


def stored(service: TrackingService) -> int:
    with service.database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(location_position)).scalar_one())


def bench_service(service: TrackingService, reports: list[TagReport]) -> dict[str, Any]:
    events = 0
    started = time.perf_counter()
    for lo in range(0, len(reports), BATCH):
        events += len(service.ingest(reports[lo : lo + BATCH]).events)
    elapsed = time.perf_counter() - started
    assert stored(service) == len(reports)
    return {
        "fixes": len(reports),
        "seconds": round(elapsed, 3),
        "fixes_per_s": round(len(reports) / elapsed),
        "zone_events": events,
    }


def uji_scans(n: int, start_us: int) -> list[TagReport]:
    """``n`` scan reports: UJIIndoorLoc's validation scans, round-robin over the assets."""
    validation = read_radio_map(UJI / "validationData.csv.gz")
    scans = [
        {ap: float(v) for ap, v in zip(validation.ap_ids, row, strict=True) if v == v}
        for row in validation.rssi
    ]
    return [
        TagReport(f"TAG-{i % ASSETS:04d}", start_us + i * 200, scan=scans[i % len(scans)])
        for i in range(n)
    ]


def mqtt_publisher(prefix: str, payloads: list[tuple[str, bytes]], rate: float, go: Any) -> None:
    """The tag fleet, in its own process: paho publishes at QoS 1, ``rate`` messages a second."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    last = None
    go.set()  # the clock starts now, not when this process was spawned
    started = time.perf_counter()
    for i, (topic, payload) in enumerate(payloads):
        last = client.publish(f"{prefix}/{topic}", payload, qos=1)
        ahead = i / rate - (time.perf_counter() - started)
        if ahead > 0.005:
            time.sleep(ahead)
    if last is not None:
        last.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def bench_mqtt(
    service: TrackingService, reports: list[TagReport], per_message: int, rate: float
) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    payloads = []
    for lo in range(0, len(reports), per_message):
        chunk = reports[lo : lo + per_message]
        body = [
            {
                "t": r.t_us / 1e6,
                "position": {
                    "building": r.fix.place.building,
                    "level": r.fix.place.level,
                    "x": r.fix.place.x,
                    "y": r.fix.place.y,
                    "uncertainty_m": r.fix.uncertainty_m,
                },
            }
            for r in chunk
            if r.fix is not None
        ]
        # One tag per message, as a tag buffering a few fixes would send them.
        for r, b in zip(chunk, body, strict=True):
            payloads.append(
                (f"tags/{r.tag_id}/report", orjson.dumps(b if per_message == 1 else [b]))
            )
    before = stored(service)

    async def run() -> float:
        listener = asyncio.create_task(
            run_mqtt_ingest("mqtt://127.0.0.1:1883", service, topic_prefix=prefix)
        )
        await asyncio.sleep(1.0)  # subscribed by then on an idle broker
        context = multiprocessing.get_context("spawn")
        go = context.Event()
        publisher = context.Process(target=mqtt_publisher, args=(prefix, payloads, rate, go))
        publisher.start()
        await asyncio.to_thread(go.wait, 60)
        started = time.perf_counter()
        deadline = started + len(payloads) / rate + 30
        while stored(service) - before < len(reports) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        publisher.join()
        listener.cancel()
        return elapsed

    elapsed = asyncio.run(run())
    got = stored(service) - before
    return {
        "messages": len(payloads),
        "fixes_sent": len(reports),
        "fixes_stored": got,
        "seconds": round(elapsed, 3),
        "offered_per_s": rate,
        "fixes_per_s": round(got / elapsed),
        "lost": len(reports) - got,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixes", type=int, default=50_000)
    parser.add_argument("--scans", type=int, default=10_000)
    parser.add_argument("--mqtt-fixes", type=int, default=30_000)
    parser.add_argument("--mqtt-rate", type=float, default=6000.0, help="messages offered a second")
    args = parser.parse_args()
    start_us = time.time_ns() // 1000 - 3600 * 1_000_000
    results: dict[str, Any] = {
        "machine": f"{platform.machine()} {multiprocessing.cpu_count()} cpu",
        "backend": "sqlite",
        "assets": ASSETS,
        "zones": 119,
        "batch": BATCH,
    }
    with tempfile.TemporaryDirectory() as tmp:
        service = fresh_service(Path(tmp), "service")
        results["service_positions"] = bench_service(service, walks(args.fixes, start_us))
        print("service, positions:", results["service_positions"])
        scan_service = fresh_service(Path(tmp), "scans")
        results["service_scans"] = bench_service(scan_service, uji_scans(args.scans, start_us))
        print("service, scans:", results["service_scans"])
        mqtt_service = fresh_service(Path(tmp), "mqtt")
        results["mqtt_positions"] = bench_mqtt(
            mqtt_service, walks(args.mqtt_fixes, start_us), 1, args.mqtt_rate
        )
        print("mqtt, positions:", results["mqtt_positions"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
