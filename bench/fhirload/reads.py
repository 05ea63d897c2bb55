"""The concurrent read phases: read by id and two searches, on the load phase's data."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .connection import TRANSPORT_ERRORS, Connection, Reply
from .outcomes import describe, json_or_none, unexpected
from .resources import HEART_RATE, LOAD_TAG_PARAM, LOINC
from .stats import Recorder
from .writes import PhaseFailed

Check = Callable[[str, Reply], str | None]  # (path, reply) -> problem, None when right


@dataclass(frozen=True)
class Targets:
    """What the read phases ask for, found among the tagged load data."""

    reads: list[str]  # "Patient/1", "Observation/7"...
    families: list[str]
    heart_rate_subjects: list[str]  # patients that have heart-rate observations


async def discover(conn: Connection, sample: int = 100, probes: int = 20) -> Targets:
    """Tagged Patients, then the heart-rate search of phase 6 on the first ``probes`` of them
    (the subjects that have heart rates, and Observation ids to read)."""
    tag = quote(LOAD_TAG_PARAM, safe="")
    patients = await _search_entries(conn, f"Patient?_tag={tag}&_count={sample}")
    if not patients:
        raise PhaseFailed("no tagged load Patients found: run the load phase")
    subjects, observations = [], []
    for patient in patients[:probes]:
        subject = f"Patient/{patient['id']}"
        found = await _search_entries(conn, heart_rate_search(subject))
        if found:
            subjects.append(subject)
            observations += found[:5]
    if not subjects:
        raise PhaseFailed(f"no heart rate found for the first {probes} load patients")
    return Targets(
        reads=[f"{r['resourceType']}/{r['id']}" for r in patients + observations],
        families=sorted({p["name"][0]["family"] for p in patients if p.get("name")}),
        heart_rate_subjects=subjects,
    )


async def _search_entries(conn: Connection, path: str) -> list[dict[str, Any]]:
    try:
        reply = await conn.request("GET", path)
    except TRANSPORT_ERRORS as exc:
        raise PhaseFailed(f"looking for the load data: {describe(exc)}") from exc
    bundle = json_or_none(reply) if reply.status == 200 else None
    if bundle is None:
        raise PhaseFailed(f"looking for the load data: {unexpected(reply, '200')}")
    return [entry["resource"] for entry in bundle.get("entry") or []]


def family_search_paths(targets: Targets) -> list[str]:
    return [f"Patient?family={quote(family, safe='')}" for family in targets.families]


def heart_rate_search(subject: str) -> str:
    code = quote(f"{LOINC}|{HEART_RATE}", safe="")
    return f"Observation?patient={quote(subject, safe='')}&code={code}"


def heart_rate_search_paths(targets: Targets) -> list[str]:
    return [heart_rate_search(subject) for subject in targets.heart_rate_subjects]


def check_read(path: str, reply: Reply) -> str | None:
    if reply.status != 200:
        return unexpected(reply, "200")
    body = json_or_none(reply) or {}
    if f"{body.get('resourceType')}/{body.get('id')}" != path:
        return f"read {path} answered another resource: {reply.body[:120]!r}"
    return None


def check_search(path: str, reply: Reply) -> str | None:
    if reply.status != 200:
        return unexpected(reply, "200")
    body = json_or_none(reply) or {}
    if body.get("resourceType") != "Bundle":
        return f"search answered no Bundle: {reply.body[:120]!r}"
    if not body.get("entry"):
        return f"empty result for {path.split('?')[0]} search"  # the query can name a patient
    return None


async def hammer(
    connections: list[Connection], paths: list[str], check: Check, duration: float, unit: str
) -> Recorder:
    """Each connection GETs ``paths`` in turn, back to back, for ``duration`` seconds."""
    recorder = Recorder(unit=unit, concurrency=len(connections))
    stride = len(connections)
    # One untimed request per connection, so that connecting is not measured.
    await asyncio.gather(*(_warm(conn, paths[0]) for conn in connections))

    async def worker(first: int, conn: Connection, deadline: float) -> None:
        index = first
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            index += stride
            started = time.perf_counter()
            try:
                reply = await conn.request("GET", path)
            except TRANSPORT_ERRORS as exc:
                recorder.error(describe(exc))
                await asyncio.sleep(0.01)  # a server that refuses must not spin this loop
                continue
            latency = time.perf_counter() - started
            problem = check(path, reply)
            if problem is None:
                recorder.ok(latency)
            else:
                recorder.error(problem)

    recorder.restart_clock()
    deadline = time.perf_counter() + duration
    await asyncio.gather(*(worker(i, conn, deadline) for i, conn in enumerate(connections)))
    recorder.stop()
    return recorder


async def _warm(conn: Connection, path: str) -> None:
    with contextlib.suppress(*TRANSPORT_ERRORS):  # the timed loop meets it again and counts it
        await conn.request("GET", path)
