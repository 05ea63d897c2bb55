"""Wayfinding speed on the demo venue: graph build once, then route computations.

Measures (1) building the routing graph from the archive, (2) ``plan_route`` alone on the
cached graph, for every entrance and room-or-service pair, standard and accessible, and
(3) ``WayfindingService.route`` end to end on a migrated SQLite database (name resolution
and the per-request digest check included). Writes bench/results/wayfinding.json.

    uv run python bench/bench_wayfinding.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.location.venue.demo import demo_archive
from hygie.location.venue.storage import save_venue
from hygie.location.wayfinding.graph import build_graph
from hygie.location.wayfinding.places import resolve_destination, resolve_origin
from hygie.location.wayfinding.route import plan_route
from hygie.location.wayfinding.service import WayfindingService

RESULTS = Path(__file__).resolve().parent / "results" / "wayfinding.json"


def summary_ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    archive = demo_archive()
    builds = []
    for _ in range(5):
        started = time.perf_counter()
        graph = build_graph(archive)
        builds.append(time.perf_counter() - started)
    origins = [o.id for o in graph.entrances()]
    targets = [p.id for p in graph.places.values()] + [
        u.id for u in graph.units.values() if u.name and u.category == "room"
    ]
    pairs = [(o, t) for o in origins for t in targets]
    routes: list[float] = []
    for accessible in (False, True):
        for origin, target in pairs:
            start, end = resolve_origin(graph, origin), resolve_destination(graph, target)
            started = time.perf_counter()
            plan_route(graph, start, end, accessible=accessible)
            routes.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as tmp:
        database = Database(make_engine(f"sqlite:///{tmp}/bench.sqlite3"))
        upgrade(database.engine)
        with database.write() as conn:
            save_venue(conn, archive)
        service = WayfindingService(database)
        service.graph()  # the first request builds the cache
        end_to_end: list[float] = []
        for _ in range(3):
            for accessible in (False, True):
                started = time.perf_counter()
                service.route(
                    "Accueil principal", "Consultations de cardiologie", accessible=accessible
                )
                end_to_end.append(time.perf_counter() - started)
        database.dispose()

    result = {
        "benchmark": "wayfinding on the demo venue (CHU Hygie)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_average_1m": round(
            os.getloadavg()[0], 2
        ),  # the machine is shared: read tails with it
        "graph": {"nodes": len(graph.nodes), "edges": sum(len(a) for a in graph.adjacency)},
        "graph_build": summary_ms(builds),
        "plan_route": summary_ms(routes),
        "service_route_sqlite": summary_ms(end_to_end),
        "target_ms": 10,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
