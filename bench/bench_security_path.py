"""The cost of the security path on FHIR reads (issue 3's figure): authentication, policy
decision and audit append per request in µs, and read throughput with and without them.

In process, on a database loaded through the store with SystemAccess (``--patients``
Patients with ``--observations-per-patient`` vital signs each):

- per-request pieces, CPU µs on one thread (median of rounds): ``TokenAuthenticator.
  authenticate`` with a backend service's token (client_credentials) and with a patient's
  token (authorization code flow of a confidential app, the patient signed in at AAL2);
  ``CedarDecisionPoint.decide`` on a memo hit and a miss; the PEP's instance facts
  (``PolicyGuard.release`` of one resource, whose facts query a professional pays); the
  audit append through the ``AuditSink`` from concurrent coroutines (wall µs per entry);
- read throughput: "without" is Hygie's FHIR engine with ``SystemAccess`` (no edge, policy
  or audit): ``FhirRouter.handle`` called directly ("engine"), and served as Hygie serves
  it, FastAPI, FHIR route first, access log, less the security path
  (bench/fhir_without_security.py); "with" is the whole app as served (access log, edge,
  token authentication, PEP, audit through the sink). Both ASGI apps are driven by
  ``--concurrency`` coroutines making raw ASGI calls (no HTTP client, no socket), so the
  figures are the server's own cost, an upper bound of the security path's share (an HTTP
  server adds the same cost to both: bench/security_path_http.sh measures that). Reads
  pick Patients and Observations of the load by id. Besides requests per second, the
  process CPU per request (all threads, the audit writer's included), which other load on
  the machine disturbs less.

Writes bench/results/security-path.json.

    uv run python bench/bench_security_path.py [--backends sqlite,postgresql] [--duration 4]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from starlette.testclient import TestClient  # noqa: E402
from starlette.types import ASGIApp, Message  # noqa: E402

from fhir_without_security import bare_fhir_app  # noqa: E402
from fhirload.resources import HEART_RATE, LOINC, Workload  # noqa: E402
from hygie.app import create_app  # noqa: E402
from hygie.db.engine import Database, make_engine  # noqa: E402
from hygie.db.migrate import upgrade  # noqa: E402
from hygie.db.scratch import scratch_database_url  # noqa: E402
from hygie.fhir.access import SystemAccess  # noqa: E402
from hygie.fhir.http_types import FhirRequest  # noqa: E402
from hygie.fhir.router import FhirRouter  # noqa: E402
from hygie.security.audit.entry import Actor, ActorKind, AuditEntry, Outcome  # noqa: E402
from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext  # noqa: E402
from hygie.security.oauth.clients import ClientKind  # noqa: E402
from hygie.security.policy.model import ResourceFacts  # noqa: E402
from hygie.security.scopes import parse_scopes  # noqa: E402
from tests.apptest import backend_headers, demo_settings, sign_in  # noqa: E402
from tests.security.oauth.helpers import REDIRECT, authorize_params, form_token, pkce, query_of  # noqa: E402

BASE = "http://testserver"
JSON_ACCEPT = (b"accept", b"application/fhir+json")


# -- the dataset ------------------------------------------------------------------------------
def load_dataset(store: Any, patients: int, per_patient: int) -> tuple[list[str], list[str]]:
    """Patients and their vital signs, written through the store as Hygie's own loader does."""
    work = Workload(seed=42)
    patient_ids: list[str] = []
    observation_ids: list[str] = []
    access = SystemAccess(reason="security path benchmark load")
    for start in range(0, patients, 50):
        items: list[tuple[object, str, str]] = []
        for n in range(start, min(start + 50, patients)):
            pid = f"bench-p{n}"
            patient_ids.append(pid)
            items.append((work.patient(tagged=True), pid, "Patient"))
            for k in range(per_patient):
                code = HEART_RATE if k == 0 else work.vital_code()
                oid = f"bench-o{n}-{k}"
                observation_ids.append(oid)
                items.append(
                    (work.observation(f"Patient/{pid}", code, tagged=True), oid, "Observation")
                )
        with store.transaction(access) as tx:
            tx.create_many(items)
    return patient_ids, observation_ids


# -- tokens -----------------------------------------------------------------------------------
def patient_token(app: Any, patient_ref: str) -> str:
    """A patient's bearer token from the authorization code flow of a confidential app, the
    patient signed in at AAL2 through a session cookie, as a browser would be."""
    security = app.state.security
    http = TestClient(app, base_url=BASE)  # no `with`: the lifespan would close the sink
    sign_in(http, PrincipalKind.PATIENT, username="bench.patiente", fhir_ref=patient_ref)
    registered, secret = security.oauth.clients.create(
        "Portail patient",
        ClientKind.CONFIDENTIAL,
        redirect_uris=[REDIRECT],
        scopes=["openid", "fhirUser", "launch/patient", "patient/*.rs"],
    )
    verifier, challenge = pkce()
    params = authorize_params(
        registered.id,
        challenge,
        aud=security.settings.fhir_base_url,
        scope="openid fhirUser launch/patient patient/*.rs",
    )
    page = http.get("/oauth/authorize", params=params, follow_redirects=False)
    assert page.status_code == 200, page.text
    approved = http.post(
        "/oauth/authorize/consent",
        data={"form_token": form_token(page.text), "decision": "approve"},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    code = query_of(approved)["code"]
    basic = base64.b64encode(f"{registered.id}:{secret}".encode()).decode()
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer", answer.text
    token: str = answer.json()["access_token"]
    return token


# -- timing helpers ---------------------------------------------------------------------------
def cpu_us(action: Callable[[], object], calls: int, rounds: int = 5) -> float:
    """CPU µs of one call on this thread, median of ``rounds`` (after a warm-up)."""
    for _ in range(min(calls, 200)):
        action()
    results = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(calls):
            action()
        results.append((time.thread_time() - started) / calls * 1e6)
    return round(statistics.median(results), 1)


def wall_us(action: Callable[[], object], calls: int, rounds: int = 5) -> float:
    for _ in range(min(calls, 200)):
        action()
    results = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        results.append((time.perf_counter() - started) / calls * 1e6)
    return round(statistics.median(results), 1)


# -- raw ASGI calls ---------------------------------------------------------------------------
def scope_of(path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 40000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), JSON_ACCEPT, *headers],
        "state": {},
    }


async def asgi_get(app: ASGIApp, path: str, query: str, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_of(path, query, headers), receive, send)
    return status


Target = tuple[str, str]  # path, query string


async def drive(
    call: Callable[[str, str], Awaitable[int]],
    targets: list[Target],
    *,
    concurrency: int,
    duration: float,
) -> dict[str, Any]:
    """``concurrency`` coroutines call ``call`` on the targets for ``duration`` seconds."""
    done = 0
    errors = 0
    latencies: list[float] = []
    stop_at = 0.0

    async def worker(offset: int) -> None:
        nonlocal done, errors
        n = offset
        while time.perf_counter() < stop_at:
            path, query = targets[n % len(targets)]
            n += concurrency
            started = time.perf_counter()
            status = await call(path, query)
            latencies.append(time.perf_counter() - started)
            if status == 200:
                done += 1
            else:
                errors += 1

    stop_at = time.perf_counter() + 0.5  # warm-up
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    done = errors = 0
    latencies.clear()
    cpu0, started = time.process_time(), time.perf_counter()
    stop_at = started + duration
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    cpu = time.process_time() - cpu0
    return {
        "per_second": round(done / seconds),
        "cpu_us_per_request": round(cpu / max(done, 1) * 1e6, 1),
        "errors": errors,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
        "process_cpu": round(cpu / seconds, 2),
    }


# -- one backend ------------------------------------------------------------------------------
def bench_backend(backend: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with scratch_database_url(backend, workdir) as url:
        db = Database(make_engine(url))
        try:
            upgrade(db.engine)
            data_dir = workdir / backend
            settings = demo_settings(data_dir, access_token_seconds=7200)
            app = create_app(settings, database=db)
            try:
                return asyncio.run(_measure(app, db, args))
            finally:
                app.state.security.audit_sink.close()
        finally:
            db.dispose()


async def _measure(app: Any, db: Database, args: argparse.Namespace) -> dict[str, Any]:
    security = app.state.security
    store = security.store
    started = time.perf_counter()
    patients, observations = load_dataset(store, args.patients, args.observations_per_patient)
    result: dict[str, Any] = {
        "dataset": {
            "patients": len(patients),
            "observations": len(observations),
            "load_seconds": round(time.perf_counter() - started, 1),
        }
    }
    backend_auth = backend_headers(app)["authorization"]
    own = f"Patient/{patients[0]}"
    patient_auth = f"Bearer {patient_token(app, own)}"
    result["pieces_us"] = pieces(app, backend_auth, patient_auth, own, observations)
    result["pieces_us"]["audit_append_concurrent"] = await audit_append(
        security.audit_sink, args.concurrency
    )
    result["throughput"] = await throughput(app, db, args, patients, observations, backend_auth)
    return result


def pieces(
    app: Any, backend_auth: str, patient_auth: str, own: str, observations: list[str]
) -> dict[str, Any]:
    security = app.state.security
    tokens = security.oauth.authenticator
    fhir_url = security.settings.fhir_base_url + "/Observation/x"

    def authenticate(authorization: str) -> Callable[[], RequestContext]:
        def call() -> RequestContext:
            ctx: RequestContext | None = tokens.authenticate(
                method="GET",
                url=fhir_url,
                authorization=authorization,
                dpop=None,
                network_zone="internal",
                source_ip="127.0.0.1",
            )
            assert ctx is not None
            return ctx

        return call

    backend_ctx = authenticate(backend_auth)()
    patient_ctx = authenticate(patient_auth)()
    pdp = security.pdp
    facts = ResourceFacts("Observation", "o1", patient_ref=own)
    assert pdp.decide(patient_ctx, "fhir.read", facts).allowed
    misses = iter(range(10**9))

    def decide_miss() -> object:
        # An organisation never seen (it is part of the memo key): Cedar evaluates.
        caller = replace(
            backend_ctx.principal, organization_ref=f"Organization/miss-{next(misses)}"
        )
        return pdp.decide(replace(backend_ctx, principal=caller), "fhir.read", facts)

    # Instance facts: release() of one stored Observation, as a read does; a professional's
    # facts need the consent and care query, a backend client's and a patient's do not.
    stored = store_read(app, "Observation", observations[0])
    enforcement = security.enforcement
    db = app.state.database

    def release_for(ctx: Any) -> Callable[[], object]:
        def call() -> object:
            guard = enforcement.guard(ctx, audit=_Discard())
            with db.read() as conn:
                return guard.release(conn, "fhir.read", [stored])

        return call

    def empty_read() -> object:
        with db.read() as conn:
            return conn

    professional_ctx = professional()
    figures: dict[str, Any] = {
        "authenticate_backend_token": cpu_us(authenticate(backend_auth), 2000),
        "authenticate_patient_token": cpu_us(authenticate(patient_auth), 2000),
        "pdp_decide_cache_hit": cpu_us(lambda: pdp.decide(patient_ctx, "fhir.read", facts), 5000),
        "pdp_decide_cache_miss": cpu_us(decide_miss, 1000),
        "db_read_transaction_alone": cpu_us(empty_read, 2000),
        "pep_release_one_backend": cpu_us(release_for(backend_ctx), 2000),
        "pep_release_one_patient": cpu_us(release_for(patient_ctx), 2000),
        "pep_release_one_professional": cpu_us(release_for(professional_ctx), 2000),
    }
    return figures


class _Discard:
    def submit(self, entries: Any) -> list[int]:
        return []


def store_read(app: Any, resource_type: str, resource_id: str) -> Any:
    return app.state.store.read(resource_type, resource_id)


def professional() -> RequestContext:
    """A physician's context as a signed-in page gives it (user/*.cruds, AAL2): their reads
    need the consent and care facts query."""
    principal = Principal(
        PrincipalKind.PRACTITIONER,
        "bench-dr",
        "Dr Bench",
        fhir_ref="Practitioner/bench-dr",
        organization_ref="Organization/bench-org",
        roles=frozenset({"physician"}),
    )
    return RequestContext(
        principal=principal,
        aal=Aal.TWO,
        auth_time=int(time.time()),
        network_zone="internal",
        scopes=parse_scopes("user/*.cruds"),
    )


async def audit_append(sink: Any, concurrency: int, entries: int = 4000) -> dict[str, Any]:
    """Wall µs per entry when ``concurrency`` coroutines each submit one entry at a time (as
    concurrent FHIR reads do), and the latency one submitter waits."""
    actor = Actor(ActorKind.APP, "bench", "bench")
    each = entries // concurrency
    latencies: list[float] = []

    async def submitter() -> None:
        for _ in range(each):
            entry = AuditEntry(
                time=datetime.now(UTC),
                actor=actor,
                action="fhir.read",
                outcome=Outcome.PERMIT,
                policy_id="bench",
                resource="Observation/x",
            )
            started = time.perf_counter()
            await sink.submit_async([entry])
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(submitter() for _ in range(4)))  # warm-up
    latencies.clear()
    cpu0, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    total = each * concurrency
    return {
        "concurrency": concurrency,
        "wall_us_per_entry": round(seconds / total * 1e6, 1),
        "process_cpu_us_per_entry": round((time.process_time() - cpu0) / total * 1e6, 1),
        "submit_latency_p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "submit_latency_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
    }


async def throughput(
    app: Any,
    db: Database,
    args: argparse.Namespace,
    patients: list[str],
    observations: list[str],
    backend_auth: str,
) -> dict[str, Any]:
    rng = random.Random(7)
    reads: list[Target] = [
        (f"/fhir/Patient/{rng.choice(patients)}", "")
        if n % 2 == 0
        else (f"/fhir/Observation/{rng.choice(observations)}", "")
        for n in range(2000)
    ]
    searches: list[Target] = [
        ("/fhir/Observation", f"patient=Patient/{p}&code={LOINC}%7C{HEART_RATE}")
        for p in patients[:100]
    ]
    router = FhirRouter(
        app.state.store,
        fhir_base=app.state.settings.fhir_base_url,
        default_count=app.state.settings.default_page_size,
        max_count=app.state.settings.max_page_size,
    )
    bare = bare_fhir_app(router, inline_reads=db.dialect == "sqlite")
    auth = [(b"authorization", backend_auth.encode())]

    def engine_rate(targets: list[Target]) -> dict[str, Any]:
        requests = [
            FhirRequest(
                "GET",
                path.removeprefix("/fhir/"),
                query=tuple(tuple(kv.split("=", 1)) for kv in query.split("&") if kv),  # type: ignore[misc]
                headers={"accept": "application/fhir+json"},
            )
            for path, query in targets
        ]
        count = 0
        for request in requests[:200]:
            assert router.handle(request, SystemAccess(reason="bench")).status == 200
        started = time.perf_counter()
        while time.perf_counter() - started < args.duration:
            router.handle(requests[count % len(requests)], SystemAccess(reason="bench"))
            count += 1
        return {"per_second": round(count / (time.perf_counter() - started))}

    out: dict[str, Any] = {
        "method": (
            f"in process; ASGI apps driven by {args.concurrency} asyncio coroutines making raw "
            "ASGI calls (no HTTP client or socket); engine = FhirRouter.handle in a loop on "
            f"one thread; {args.duration} s per run after 0.5 s warm-up, best of "
            f"{args.runs} alternating runs; with = backend service bearer token "
            "(system/*.cruds), client 127.0.0.1 (internal zone)"
        ),
    }
    for name, targets in (("read", reads), ("search_observation", searches)):
        runs: dict[str, list[dict[str, Any]]] = {"engine": [], "without": [], "with": []}
        for _ in range(args.runs):
            runs["engine"].append(engine_rate(targets))
            runs["without"].append(
                await drive(
                    lambda p, q: asgi_get(bare, p, q, []),
                    targets,
                    concurrency=args.concurrency,
                    duration=args.duration,
                )
            )
            runs["with"].append(
                await drive(
                    lambda p, q: asgi_get(app, p, q, auth),
                    targets,
                    concurrency=args.concurrency,
                    duration=args.duration,
                )
            )
        best = {k: max(v, key=lambda r: r["per_second"]) for k, v in runs.items()}
        with_rate, without_rate = best["with"]["per_second"], best["without"]["per_second"]
        best["all_runs_per_second"] = {k: [r["per_second"] for r in v] for k, v in runs.items()}
        best["cost_pct_vs_asgi_without"] = round((1 - with_rate / without_rate) * 100, 1)
        best["cost_pct_vs_engine"] = round((1 - with_rate / best["engine"]["per_second"]) * 100, 1)
        best["security_us_per_request"] = round((1 / with_rate - 1 / without_rate) * 1e6, 1)
        cpu = {k: min(r["cpu_us_per_request"] for r in v) for k, v in runs.items() if k != "engine"}
        best["security_cpu_us_per_request"] = round(cpu["with"] - cpu["without"], 1)
        best["cost_pct_cpu"] = round((1 - cpu["without"] / cpu["with"]) * 100, 1)
        out[name] = best
        print(name, json.dumps(best), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--observations-per-patient", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/security-path.json")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "security path: authentication + PDP + PEP facts + audit append",
        "command": "uv run python bench/bench_security_path.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python "
        f"{platform.python_version()}",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "clock": "pieces: time.thread_time (CPU of this thread) per call, median of 5 rounds; "
        "audit append: wall time",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            results[backend] = bench_backend(backend, args, Path(tmp))
            print(backend, json.dumps(results[backend]["pieces_us"]), flush=True)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
