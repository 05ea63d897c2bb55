"""The write phases, each on one connection: single creates, mixed transactions, the load."""

from __future__ import annotations

import time
from urllib.parse import quote

import orjson

from .connection import TRANSPORT_ERRORS, Connection
from .outcomes import describe, json_or_none, reference_from_location, unexpected
from .resources import LOAD_TAG_PARAM, Resource, Workload, transaction
from .stats import Recorder


class PhaseFailed(Exception):
    """A step a phase cannot go on without (e.g. counting the existing load) failed."""


async def create_one_by_one(conn: Connection, workload: Workload, count: int) -> Recorder:
    """POST ``count`` Patients, each waiting for the previous answer."""
    recorder = Recorder(unit="patients")
    for _ in range(count):
        body = orjson.dumps(workload.patient())
        started = time.perf_counter()
        try:
            reply = await conn.request("POST", "Patient", body)
        except TRANSPORT_ERRORS as exc:
            recorder.error(describe(exc))
            continue
        if reply.status == 201:
            recorder.ok(time.perf_counter() - started)
        else:
            recorder.error(unexpected(reply, "201"))
    recorder.stop()
    return recorder


async def mixed_transactions(
    conn: Connection, workload: Workload, bundles: int, size: int
) -> Recorder:
    """POST ``bundles`` transactions of ``size`` Patients and Observations (urn:uuid links)."""
    recorder = Recorder(unit="resources")
    recorder.extra["bundle_size"] = size
    for _ in range(bundles):
        await post_transaction(conn, workload.mixed_bundle(size), recorder)
    recorder.stop()
    return recorder


async def post_transaction(conn: Connection, bundle: Resource, recorder: Recorder) -> list[str]:
    """POST one transaction; on full success record it and return the created references."""
    body = orjson.dumps(bundle)
    size = len(bundle["entry"])
    started = time.perf_counter()
    try:
        reply = await conn.request("POST", "", body)
    except TRANSPORT_ERRORS as exc:
        recorder.error(describe(exc))
        return []
    latency = time.perf_counter() - started
    if reply.status != 200:
        recorder.error(unexpected(reply, "200"))
        return []
    answer = json_or_none(reply) or {}
    entries = answer.get("entry") or []
    if answer.get("type") != "transaction-response" or len(entries) != size:
        recorder.error(f"not a transaction-response with {size} entries: {reply.body[:200]!r}")
        return []
    responses = [entry.get("response") or {} for entry in entries]
    refused = [r.get("status") for r in responses if not str(r.get("status")).startswith("201")]
    if refused:
        recorder.error(f"{len(refused)} entries not created, e.g. status {refused[0]!r}")
        return []
    recorder.ok(latency, units=size)
    return [reference_from_location(str(r.get("location", ""))) for r in responses]


async def count_load(conn: Connection, resource_type: str) -> int:
    """How many resources of the load phase (by its tag) the server already holds."""
    path = f"{resource_type}?_tag={quote(LOAD_TAG_PARAM, safe='')}&_summary=count"
    try:
        reply = await conn.request("GET", path)
    except TRANSPORT_ERRORS as exc:
        raise PhaseFailed(f"counting the existing load: {describe(exc)}") from exc
    total = (json_or_none(reply) or {}).get("total") if reply.status == 200 else None
    if not isinstance(total, int):
        raise PhaseFailed(f"counting the existing load: {unexpected(reply, '200 with a total')}")
    return total


async def ensure_load(
    conn: Connection,
    workload: Workload,
    *,
    observations: int,
    patients: int,
    bundle_size: int,
    max_errors: int,
) -> Recorder:
    """Make sure ``observations`` tagged vital signs exist, spread over about ``patients``
    tagged Patients; a re-run only adds what is missing."""
    recorder = Recorder(unit="resources")
    recorder.extra["bundle_size"] = bundle_size
    try:
        present = await count_load(conn, "Observation")
    except PhaseFailed as exc:
        recorder.error(str(exc))
        recorder.stop()
        return recorder
    recorder.extra["already_present"] = present
    missing = max(0, observations - present)
    new_patients = max(1, round(patients * missing / observations)) if missing else 0
    subjects: list[str] = []
    for batch in _batches(new_patients, bundle_size):
        bundle = transaction([(workload.full_url(), workload.patient(tagged=True)) for _ in batch])
        subjects += await post_transaction(conn, bundle, recorder)
        if recorder.errors >= max_errors:
            break
    if missing and not subjects:
        recorder.error("no load patient was created, so no observation can be loaded")
    for batch in _batches(missing if subjects else 0, bundle_size):
        if recorder.errors >= max_errors:
            recorder.extra["aborted"] = f"stopped after {recorder.errors} errors"
            break
        entries = [
            (
                workload.full_url(),
                workload.observation(workload.pick(subjects), workload.vital_code(), tagged=True),
            )
            for _ in batch
        ]
        await post_transaction(conn, transaction(entries), recorder)
    recorder.extra["patients_created"] = len(subjects)
    recorder.stop()
    return recorder


def _batches(total: int, size: int) -> list[range]:
    return [range(start, min(start + size, total)) for start in range(0, total, size)]
