"""How fast the portals' pages answer on the demo data (the issue asks for under 200 ms).

In process: a fresh database per backend with the demo hospital and its documents, the
whole app (edge, sessions, PEP, audit through the sink), and two browsers signed in as the
demo patient and the demo cardiologist (sessions at AAL2, as after password and TOTP).
Each page is fetched ``--rounds`` times after a warm-up, through a TestClient (ASGI, no
socket); the figures are wall milliseconds per page, audit append included.

Writes bench/results/pages.json: per backend, per page, p50 and p95 and the status seen.

    uv run python bench/bench_pages.py [--backends sqlite,postgresql] [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from hygie.app import create_app  # noqa: E402
from hygie.db.engine import Database, make_engine  # noqa: E402
from hygie.db.migrate import upgrade  # noqa: E402
from hygie.db.scratch import scratch_database_url  # noqa: E402
from hygie.demo import demo_rpps, load_demo  # noqa: E402
from hygie.record.demo_documents import add_demo_documents  # noqa: E402
from hygie.security.context import Aal, PrincipalKind  # noqa: E402
from hygie.security.sessions import SESSION_COOKIE  # noqa: E402
from tests.apptest import demo_settings  # noqa: E402
from tests.web.conftest import demo_id, demo_resource  # noqa: E402

ORIGIN = "https://hygie.bench"


def signed_in(app: Any, kind: PrincipalKind, username: str, **account: Any) -> TestClient:
    security = app.state.security
    created = security.accounts.create(
        kind, username, "Bench-Hygie-2026!", display=username, **account
    )
    _, cookie = security.sessions.start(created, Aal.TWO, source_ip="bench", user_agent="bench")
    client = TestClient(app, base_url=ORIGIN)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client


def pages_of(app: Any) -> list[tuple[str, TestClient, str]]:
    store = app.state.store
    resource = demo_resource(store, "Patient", "patient-0")
    patient_id = resource["id"]
    family = resource["name"][0]["family"]
    ins = resource["identifier"][0]["value"]
    patient_browser = signed_in(
        app, PrincipalKind.PATIENT, "bench.patiente", fhir_ref=f"Patient/{patient_id}"
    )
    doctor = signed_in(
        app,
        PrincipalKind.PRACTITIONER,
        "bench.cardiologue",
        fhir_ref="Practitioner/" + demo_id(store, "Practitioner", "pract-0"),
        organization_ref="Organization/" + demo_id(store, "Organization", "org-chu"),
        roles=frozenset({"physician"}),
        rpps=demo_rpps(0),
    )
    documents = doctor.get(f"/pro/patients/{patient_id}/documents").text
    first = documents.split(f"/pro/patients/{patient_id}/documents/", 1)[1].split("/", 1)[0]
    record = f"/pro/patients/{patient_id}"
    return [
        ("patient: accueil (chronologie)", patient_browser, "/espace"),
        (
            "patient: chronologie filtrée",
            patient_browser,
            "/espace?type=Observation&depuis=2025-01-01",
        ),
        ("patient: documents", patient_browser, "/espace/documents"),
        ("patient: ouvrir un PDF", patient_browser, f"/espace/documents/{first}/fichier"),
        ("patient: profil", patient_browser, "/espace/profil"),
        ("patient: historique des accès", patient_browser, "/espace/acces"),
        ("patient: confidentialité", patient_browser, "/espace/confidentialite"),
        ("patient: archive du dossier", patient_browser, "/espace/archive"),
        ("pro: recherche (formulaire)", doctor, "/pro"),
        ("pro: recherche par nom", doctor, f"/pro?nom={family}"),
        ("pro: recherche par INS", doctor, f"/pro?ins={ins}"),
        ("pro: dossier (chronologie)", doctor, record),
        ("pro: documents", doctor, f"{record}/documents"),
        ("pro: ouvrir un PDF", doctor, f"{record}/documents/{first}/fichier"),
        ("pro: profil", doctor, f"{record}/profil"),
        ("pro: bris de glace (formulaire)", doctor, f"{record}/bris-de-glace"),
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_backend(backend: str, rounds: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        scratch_database_url(backend, Path(scratch)) as url,
    ):
        database = Database(make_engine(url))
        upgrade(database.engine)
        app = create_app(demo_settings(Path(scratch) / "data", base_url=ORIGIN), database=database)
        load_demo(app.state.store)
        add_demo_documents(app.state.store)
        results: dict[str, Any] = {}
        with TestClient(app, base_url=ORIGIN):
            for name, client, path in pages_of(app):
                for _ in range(3):
                    client.get(path)
                times, statuses = [], set()
                for _ in range(rounds):
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - started) * 1000)
                    statuses.add(response.status_code)
                results[name] = {
                    "path": path.split("?")[0],
                    "status": sorted(statuses),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                    "max_ms": round(max(times), 1),
                }
                print(
                    f"{backend:<10} {name:<36} p50 {results[name]['p50_ms']:>6} ms  "
                    f"p95 {results[name]['p95_ms']:>6} ms  {sorted(statuses)}"
                )
        database.dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    out = {
        "metadata": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "rounds": args.rounds,
            "what": "wall ms per page, in process (TestClient), demo hospital and documents",
        },
        "backends": {b: run_backend(b, args.rounds) for b in args.backends.split(",")},
    }
    target = ROOT / "bench" / "results" / "pages.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"written {target}")


if __name__ == "__main__":
    main()
