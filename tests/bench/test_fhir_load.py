"""The FHIR load tool, run with tiny sizes against a real Hygie server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.backend_token import backend_token
from bench.fhirload.resources import VITAL_CODES, Workload
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / "bench" / "fhir_load.py"
HYGIE = str(Path(sys.executable).parent / "hygie")
PHASES = {"create", "transaction", "load", "read", "search-family", "search-observation"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """A migrated Hygie on SQLite, listening on a free port: (FHIR base URL, pid)."""
    data_dir = tmp_path_factory.mktemp("hygie")
    env = {**os.environ, "HYGIE_DATA_DIR": str(data_dir), "HYGIE_MODE": "demo"}
    env.pop("HYGIE_DATABASE_URL", None)
    subprocess.run([HYGIE, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [HYGIE, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (data_dir / "server.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Hygie did not become healthy in 30 s"
            time.sleep(0.2)
        token = backend_token(f"http://127.0.0.1:{port}", env)
        yield f"http://127.0.0.1:{port}/fhir", process.pid, token
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=120
    )


def test_every_phase_runs_without_errors_and_a_rerun_finds_the_load(
    server: tuple[str, int, str], tmp_path: Path
) -> None:
    base_url, pid, token = server
    out = tmp_path / "first.json"
    tiny = ["--creates", "20", "--bundles", "2", "--observations", "300"]
    tiny += ["--load-patients", "10", "--duration", "1", "--concurrency", "4"]
    target = ["--base-url", base_url, "--label", "test", "--server-pid", str(pid)]
    target += ["--header", f"Authorization: Bearer {token}"]
    result = run_tool(*target, "--out", str(out), *tiny)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert report["metadata"]["base_url"] == base_url
    assert report["metadata"]["options"]["observations"] == 300
    assert set(report["phases"]) == PHASES
    for name, phase in report["phases"].items():
        assert phase["errors"] == 0, (name, phase["error_samples"])
        assert phase["count"] > 0 and phase["per_second"] > 0, name
        assert 0 < phase["p50_ms"] <= phase["p99_ms"], name
    assert report["phases"]["create"]["count"] == 20
    assert report["phases"]["transaction"]["count"] == 200
    assert report["phases"]["load"]["count"] == 300 + 10  # the observations and their patients
    assert report["memory"]["peak_mb"] >= report["memory"]["final_mb"] > 20
    assert "create" in result.stdout and "server RSS" in result.stdout

    again = tmp_path / "again.json"
    skip = ["--skip", "create", "--skip", "transaction", "--skip", "read"]
    skip += ["--skip", "search-family", "--skip", "search-observation"]
    auth = ["--header", f"Authorization: Bearer {token}"]
    rerun = run_tool(
        "--base-url", base_url, "--label", "t", "--out", str(again), *auth, *tiny, *skip
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    load = json.loads(again.read_text())["phases"]["load"]
    assert load["already_present"] == 300 and load["count"] == 0 and load["errors"] == 0


def test_an_unreachable_or_remote_server_is_a_clear_refusal() -> None:
    closed = run_tool("--base-url", f"http://127.0.0.1:{free_port()}/fhir", "--label", "x")
    assert closed.returncode == 2
    assert "cannot reach http://127.0.0.1:" in closed.stderr
    remote = run_tool("--base-url", "http://192.0.2.1/fhir", "--label", "x")
    assert remote.returncode == 2 and "not a loopback address" in remote.stderr


def test_the_workload_is_valid_fhir_r4_and_fixed_by_the_seed() -> None:
    first, second, other = Workload(7), Workload(7), Workload(8)
    bundles = [w.mixed_bundle(30) for w in (first, second, other)]
    assert bundles[0] == bundles[1] != bundles[2]
    Bundle.model_validate(bundles[0])
    resources = [entry["resource"] for entry in bundles[0]["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) == 3
    for patient in patients:
        Patient.model_validate(patient)
        assert patient["address"][0]["country"] == "FR"
    for code in VITAL_CODES:
        observation = first.observation("Patient/1", code, tagged=True)
        Observation.model_validate(observation)
        assert observation["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": code,
            "display": observation["code"]["text"],
        }
