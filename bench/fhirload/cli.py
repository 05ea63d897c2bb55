"""Command line: parse options, run the phases in order, write the JSON, print a summary."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
import uvloop

from .connection import TRANSPORT_ERRORS, Connection, Target, TargetError
from .monitor import MB, ServerMonitor
from .outcomes import describe
from .reads import (
    Targets,
    check_read,
    check_search,
    discover,
    family_search_paths,
    hammer,
    heart_rate_search_paths,
)
from .resources import Workload
from .stats import Recorder
from .writes import PhaseFailed, create_one_by_one, ensure_load, mixed_transactions

PHASES = ("create", "transaction", "load", "read", "search-family", "search-observation")
RESULTS = Path(__file__).resolve().parents[1] / "results"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fhir_load.py",
        description="Load a FHIR R4 server and measure it; figures go to a JSON file.",
    )
    p.add_argument("--base-url", required=True, help="FHIR base, e.g. http://127.0.0.1:8010/fhir")
    p.add_argument("--label", required=True, help="names the run and the output file")
    p.add_argument("--out", type=Path, help="JSON output (default bench/results/fhir-LABEL.json)")
    p.add_argument("--seed", type=int, default=42, help="fixes every generated value")
    p.add_argument("--creates", type=_positive, default=1000, help="Patients POSTed one by one")
    p.add_argument("--bundles", type=_positive, default=20, help="mixed transaction bundles")
    p.add_argument("--bundle-size", type=_positive, default=100, help="resources per bundle")
    p.add_argument("--observations", type=_positive, default=100_000, help="load to ensure")
    p.add_argument("--load-patients", type=_positive, default=1000, help="patients of the load")
    p.add_argument("--duration", type=float, default=20.0, help="seconds per read phase")
    p.add_argument("--concurrency", type=_positive, default=16, help="clients in read phases")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    p.add_argument("--max-errors", type=_positive, default=50, help="stop the load after this")
    p.add_argument("--server-pid", type=int, help="sample this process tree's memory and CPU")
    p.add_argument(
        "--header", action="append", default=[], help="extra request header 'Name: value'"
    )
    p.add_argument("--skip", action="append", default=[], choices=PHASES, help="skip a phase")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback server")
    return p


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        target = Target.parse(args.base_url, allow_remote=args.allow_remote)
        headers = [_header(text) for text in args.header]
        monitor = ServerMonitor(args.server_pid) if args.server_pid else None
    except (TargetError, ValueError, psutil.Error) as exc:
        print(f"fhir_load: {exc}", file=sys.stderr)
        return 2
    report = uvloop.run(_run(args, target, headers, monitor))
    if report is None:
        return 2
    out = args.out or RESULTS / f"fhir-{args.label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    print(summary(report))
    print(f"written to {out}")
    failed = sum(phase.get("errors", 0) for phase in report["phases"].values())
    return 1 if failed else 0


def _header(text: str) -> tuple[bytes, bytes]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"--header must be 'Name: value', got {text!r}")
    return name.strip().lower().encode(), value.strip().encode()


async def _run(
    args: argparse.Namespace,
    target: Target,
    headers: list[tuple[bytes, bytes]],
    monitor: ServerMonitor | None,
) -> dict[str, Any] | None:
    def connect() -> Connection:
        return Connection(target, headers, args.timeout)

    main_conn = connect()
    try:
        await main_conn.request("GET", "metadata")
    except TRANSPORT_ERRORS as exc:
        print(f"fhir_load: cannot reach {target.url}: {describe(exc)}", file=sys.stderr)
        return None
    workload = Workload(args.seed)
    phases: dict[str, dict[str, Any]] = {}
    skip = set(args.skip)
    if monitor:
        monitor.start()

    async def phase(name: str, run: Callable[[], Awaitable[Recorder]]) -> None:
        if name in skip:
            return
        print(f"{name}...", file=sys.stderr, flush=True)
        phases[name] = await _measured(run, monitor)

    await phase("create", lambda: create_one_by_one(main_conn, workload, args.creates))
    await phase(
        "transaction",
        lambda: mixed_transactions(main_conn, workload, args.bundles, args.bundle_size),
    )
    await phase(
        "load",
        lambda: ensure_load(
            main_conn,
            workload,
            observations=args.observations,
            patients=args.load_patients,
            bundle_size=args.bundle_size,
            max_errors=args.max_errors,
        ),
    )
    if not skip.issuperset(PHASES[3:]):
        pool = [connect() for _ in range(args.concurrency)]
        try:
            targets: Targets | str = await discover(main_conn)
        except PhaseFailed as exc:
            targets = str(exc)

        def concurrent(paths: Callable[[Targets], list[str]], check: Any, unit: str) -> Any:
            async def run() -> Recorder:
                if isinstance(targets, str):
                    failed = Recorder(unit=unit)
                    failed.error(targets)
                    failed.stop()
                    return failed
                return await hammer(pool, paths(targets), check, args.duration, unit)

            return run

        await phase("read", concurrent(lambda t: t.reads, check_read, "reads"))
        await phase("search-family", concurrent(family_search_paths, check_search, "searches"))
        await phase(
            "search-observation", concurrent(heart_rate_search_paths, check_search, "searches")
        )
        for conn in pool:
            conn.close()
    main_conn.close()
    if monitor:
        await monitor.stop()
    return {
        "tool": "bench/fhir_load.py",
        "metadata": _metadata(args, target),
        "phases": phases,
        "memory": monitor.report() if monitor else None,
    }


async def _measured(
    run: Callable[[], Awaitable[Recorder]], monitor: ServerMonitor | None
) -> dict[str, Any]:
    """Run a phase; with a monitor, add the server's CPU share and memory peak during it."""
    if monitor is None or monitor.lost:
        return (await run()).summary()
    monitor.phase_peak = 0
    monitor.sample()
    cpu_before = monitor.cpu_seconds()
    result = (await run()).summary()
    if not monitor.lost:
        monitor.sample()
        seconds = result["seconds"]
        used = monitor.cpu_seconds() - cpu_before
        result["server_cpu"] = round(used / seconds, 2) if seconds > 0 else 0.0
        result["server_rss_peak_mb"] = round(monitor.phase_peak / MB, 1)
    return result


def _metadata(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    options = {k: v for k, v in vars(args).items() if k not in ("base_url", "label", "header")}
    options["out"] = str(args.out) if args.out else None
    options["headers"] = [text.partition(":")[0] for text in args.header]  # names, no secrets
    return {
        "base_url": target.url,
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "options": options,
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def summary(report: dict[str, Any]) -> str:
    meta = report["metadata"]
    lines = [
        f"{meta['label']} at {meta['base_url']} ({meta['cores']} cores, {meta['date']})",
        f"{'phase':<19}{'count':>16}{'per s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'client':>8}{'server':>8}",
    ]
    for name, p in report["phases"].items():
        count = f"{p['count']} {p['unit']}"
        lines.append(
            f"{name:<19}{count:>16}{p['per_second']:>10}{p['p50_ms']:>9}{p['p99_ms']:>9}"
            f"{p['errors']:>8}{p['client_cpu']:>8}{p.get('server_cpu', '-'):>8}"
        )
        if p.get("already_present"):
            lines.append(f"{'':<19}({p['already_present']} observations were already loaded)")
        lines += [f"{'':<19}! {sample}" for sample in p["error_samples"]]
    memory = report["memory"]
    if memory:
        lines.append(f"server RSS: peak {memory['peak_mb']} MB, final {memory['final_mb']} MB")
        if memory["lost"]:
            lines.append(f"! {memory['lost']}")
    lines.append("client/server: share of one core used by the load tool / by the server")
    return "\n".join(lines)
