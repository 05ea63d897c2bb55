"""A server killed with SIGKILL in the middle of a load keeps every acknowledged write and no
partial transaction Bundle. Runs a real `hygie serve` process on both backends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest
from bench.backend_token import backend_token
from sqlalchemy import create_engine, text

from tests.conftest import backends

BUNDLE_SIZE = 25
HYGIE = str(Path(sys.executable).parent / "hygie")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bundle(tag: str) -> dict[str, object]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:test:bundle", "value": tag}],
                    "name": [{"family": f"Crash{i}"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            }
            for i in range(BUNDLE_SIZE)
        ],
    }


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        server = subprocess.Popen(
            [HYGIE, "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    server.wait()
    raise AssertionError(f"server did not start: {log.read_text()}")


@pytest.mark.slow
@backends
def test_sigkill_mid_load_keeps_acknowledged_bundles_whole(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "HYGIE_DATA_DIR": str(tmp_path / "data"),
        "HYGIE_DATABASE_URL": database_url,
        "HYGIE_LOG_LEVEL": "WARNING",
        "HYGIE_MODE": "demo",
    }
    subprocess.run([HYGIE, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    server = start_server(env, port, tmp_path / "server.log")
    auth = {"authorization": f"Bearer {backend_token(f'http://127.0.0.1:{port}', env)}"}
    acknowledged: list[str] = []
    sent: list[str] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/fhir", timeout=10, headers=auth
        ) as client:
            n = 0
            while not stop.is_set():
                tag = f"w{worker}-b{n}"
                n += 1
                sent.append(tag)
                try:
                    response = client.post(
                        "",
                        content=orjson.dumps(bundle(tag)),
                        headers={"content-type": "application/fhir+json"},
                    )
                except httpx.HTTPError:
                    return  # the server died under us: this bundle is not acknowledged
                if response.status_code == 200:
                    acknowledged.append(tag)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    time.sleep(2.5)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for w in workers:
        w.join()
    assert len(acknowledged) >= 5, "the load did not get going before the kill"

    # What a restarted Hygie finds in the database, read directly.
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT content FROM fhir_resource WHERE resource_type = 'Patient'")
        ).scalars()
        per_bundle = Counter(orjson.loads(content)["identifier"][0]["value"] for content in rows)
    engine.dispose()
    for tag in acknowledged:
        assert per_bundle[tag] == BUNDLE_SIZE, f"acknowledged bundle {tag} lost resources"
    partial = {tag: n for tag, n in per_bundle.items() if n != BUNDLE_SIZE}
    assert partial == {}, f"partial bundles after the kill: {partial}"
    assert set(per_bundle) <= set(sent)

    restarted = start_server(
        env, port, tmp_path / "server.log"
    )  # and the database opens cleanly again
    try:
        counted = httpx.get(f"http://127.0.0.1:{port}/fhir/Patient?_summary=count", headers=auth)
        count = counted.json()["total"]
        assert count == sum(per_bundle.values())
    finally:
        restarted.terminate()
        restarted.wait()
