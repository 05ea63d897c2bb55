"""Stored radio map and live positioning: the figures behind the storage layout and the API.

1. layouts: the UJIIndoorLoc training map (19,937 fingerprints x 520 APs) encoded three
   ways (dense float32 vector per row, JSON object of heard APs, the sparse uint32+float32
   blobs Hygie stores); bytes and the time to decode all rows back into the dense matrix;
2. per backend (SQLite file, PostgreSQL at 127.0.0.1:5432): import time, database bytes of
   the fingerprint table, load time (median of 5), training time, app start until the
   positioner is ready;
3. POST /api/location/locate through the ASGI app (starlette TestClient, in-process, no
   socket): latency of one validation scan per request (200 requests) and of 100 per request.

Usage: uv run python bench/bench_radiomap.py [--backends sqlite,postgresql]
    ->  bench/results/radiomap.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.config import Settings
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.location.positioning import Positioner, RadioMap, read_radio_map
from hygie.location.radiomap import import_radio_map, load_radio_map

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "radiomap.json"
UJI = ROOT.parent / "shared" / "data" / "ujiindoorloc"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def layouts(radio_map: RadioMap) -> dict[str, Any]:
    n, m = radio_map.rssi.shape
    heard = ~np.isnan(radio_map.rssi)
    dense = [row.astype("<f4").tobytes() for row in radio_map.rssi]
    as_json = [
        orjson.dumps({radio_map.ap_ids[j]: float(row[j]) for j in np.flatnonzero(h)})
        for row, h in zip(radio_map.rssi, heard, strict=True)
    ]
    sparse = [
        (np.flatnonzero(h).astype("<u4").tobytes(), row[h].astype("<f4").tobytes())
        for row, h in zip(radio_map.rssi, heard, strict=True)
    ]
    column = {ap: j for j, ap in enumerate(radio_map.ap_ids)}

    def from_dense() -> None:
        np.frombuffer(b"".join(dense), "<f4").reshape(n, m).astype(np.float64)

    def from_json() -> None:
        out = np.full((n, m), np.nan)
        for i, blob in enumerate(as_json):
            for ap, value in orjson.loads(blob).items():
                out[i, column[ap]] = value

    def from_sparse() -> None:
        out = np.full((n, m), np.nan)
        counts = [len(a) // 4 for a, _ in sparse]
        cols = np.frombuffer(b"".join(a for a, _ in sparse), "<u4")
        out[np.repeat(np.arange(n), counts), cols] = np.frombuffer(
            b"".join(r for _, r in sparse), "<f4"
        )

    return {
        "fingerprints": n,
        "access_points": m,
        "mean_heard_per_fingerprint": round(float(heard.sum(axis=1).mean()), 1),
        "dense_float32": {
            "bytes": sum(map(len, dense)),
            "decode_s": round(min(timed(from_dense) for _ in range(3)), 4),
        },
        "json_heard_only": {
            "bytes": sum(map(len, as_json)),
            "decode_s": round(min(timed(from_json) for _ in range(3)), 4),
        },
        "sparse_blobs_stored": {
            "bytes": sum(len(a) + len(r) for a, r in sparse),
            "decode_s": round(min(timed(from_sparse) for _ in range(3)), 4),
        },
    }


def backend(name: str, url: str, table_bytes: Callable[[Database], int]) -> dict[str, Any]:
    database = Database(make_engine(url))
    upgrade(database.engine)
    figures: dict[str, Any] = {
        "import_s": round(timed(lambda: import_radio_map(database, UJI / "trainingData.csv.gz")), 3)
    }
    figures["fingerprint_table_bytes"] = table_bytes(database)
    loads = [timed(lambda: load_radio_map(database)) for _ in range(5)]
    figures["load_s_median"], figures["load_s_min"] = (
        round(statistics.median(loads), 3),
        round(min(loads), 3),
    )
    loaded = load_radio_map(database)
    assert loaded is not None
    figures["fit_s"] = round(timed(lambda: Positioner.fit(loaded[1])), 3)
    app = create_app(Settings(base_url="http://testserver"), database=database)
    started = time.perf_counter()
    with TestClient(app) as client:
        figures["app_start_s"] = round(time.perf_counter() - started, 3)
        assert app.state.radiomap.wait(60)
        figures["start_to_ready_s"] = round(time.perf_counter() - started, 3)
        if name == "sqlite":
            figures["http"] = http_latency(client)
    database.dispose()
    return figures


def http_latency(client: TestClient) -> dict[str, Any]:
    truth = read_radio_map(UJI / "validationData.csv.gz")
    scans = [
        {ap: float(v) for ap, v in zip(truth.ap_ids, row, strict=True) if not np.isnan(v)}
        for row in truth.rssi[:200]
    ]
    single = []
    for scan in scans:
        started = time.perf_counter()
        response = client.post("/api/location/locate", json={"scan": scan})
        single.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    batch = []
    for start in range(0, 200, 100):
        started = time.perf_counter()
        response = client.post("/api/location/locate", json={"scans": scans[start : start + 100]})
        batch.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    ms = sorted(s * 1000 for s in single)
    return {
        "one_scan_per_request_ms": {
            "p50": round(ms[len(ms) // 2], 2),
            "p95": round(ms[int(len(ms) * 0.95)], 2),
        },
        "100_scans_per_request_ms": round(statistics.mean(batch) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": platform.platform(),
        "layouts": layouts(read_radio_map(UJI / "trainingData.csv.gz")),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.backends.split(","):
            if name == "sqlite":
                path = Path(tmp) / "hygie.sqlite3"
                results[name] = backend(name, f"sqlite:///{path}", sqlite_bytes)
            else:
                results[name] = postgres(name)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def sqlite_bytes(database: Database) -> int:
    with database.read() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name = 'location_radiomap_fingerprint'"
            ).scalar_one()
        )


def postgres_bytes(database: Database) -> int:
    with database.read() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT pg_total_relation_size('location_radiomap_fingerprint')"
            ).scalar_one()
        )


def postgres(name: str) -> dict[str, Any]:
    db_name = f"hygie_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        return backend(name, f"{POSTGRES}/{db_name}", postgres_bytes)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
