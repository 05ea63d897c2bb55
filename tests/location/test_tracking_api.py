"""The tracking HTTP API through the real ASGI app: what a tag, a nurse's screen and an
integrator see, and the precise refusals that leave nothing stored."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hygie.app import create_app
from hygie.db.engine import Database
from tests.apptest import backend_headers, demo_settings
from tests.conftest import backends

Client = httpx.AsyncClient
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat()


def run(database: Database, scenario: Callable[[Client], Awaitable[None]]) -> None:
    """``scenario`` against the app, authenticated as a backend service (system/*.cruds)."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(demo_settings(Path(data_dir)), database=database)
        headers = backend_headers(app)

        async def main() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers=headers
            ) as client:
                await scenario(client)

        try:
            asyncio.run(main())
        finally:
            app.state.security.audit_sink.close()


def position(x: float, y: float, t: str) -> dict[str, Any]:
    return {"t": t, "position": {"building": "A", "level": 3, "x": x, "y": y, "uncertainty_m": 2}}


async def setup_ward(client: Client) -> None:
    zone = {
        "id": "ward-3b",
        "name": "Cardiologie 3B",
        "kind": "service",
        "building": "A",
        "level": 3,
        "polygon": [[0, 0], [40, 0], [40, 20], [0, 20]],
    }
    assert (await client.post("/api/location/zones", json=zone)).status_code == 201
    for tag in ("PUMP-1", "PUMP-2"):
        body = {"tag": tag, "kind": "infusion-pump", "name": tag, "home_zone_id": "ward-3b"}
        response = await client.post("/api/location/assets", json=body)
        assert response.status_code == 201, response.text


@backends
def test_reports_then_where_history_events_and_nearest(database: Database) -> None:
    async def scenario(client: Client) -> None:
        await setup_ward(client)
        reports = [position(5, 5, iso(60 - i)) for i in range(3)]
        response = await client.post("/api/location/tags/PUMP-1/reports", json=reports)
        assert response.status_code == 202
        assert [(e["zone"], e["kind"]) for e in response.json()["events"]] == [("ward-3b", "enter")]
        batch = {
            "reports": [{"tag": "PUMP-2", **position(30 + i, 15, iso(50 - i))} for i in range(3)]
        }
        assert (await client.post("/api/location/reports", json=batch)).json()["stored"] == 3

        where = (await client.get("/api/location/assets/PUMP-1")).json()
        assert (where["x"], where["y"], where["zones"]) == (5, 5, ["ward-3b"])
        assert where["device"].startswith("Device/") and where["uncertainty_m"] == 2
        history = await client.get(
            "/api/location/assets/PUMP-2/history", params={"since": iso(49), "until": iso(0)}
        )
        assert [p["x"] for p in history.json()["positions"]] == [31, 32]
        events = (await client.get("/api/location/events", params={"zone": "ward-3b"})).json()
        assert sorted(e["tag"] for e in events["events"]) == ["PUMP-1", "PUMP-2"]

        near = await client.get(
            "/api/location/nearest", params={"kind": "infusion-pump", "zone": "ward-3b"}
        )
        assert (
            near.json()["assets"][0]["tag"] == "PUMP-2"
        )  # (32, 15) is 13 m from (20, 10), (5, 5) 15.8 m
        put = await client.put("/api/location/assets/PUMP-2/in-use", json={"in_use": True})
        assert put.status_code == 200
        near = await client.get(
            "/api/location/nearest", params={"kind": "infusion-pump", "zone": "ward-3b"}
        )
        assert near.json()["assets"][0]["tag"] == "PUMP-1"

    run(database, scenario)


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/api/location/tags/PUMP-1/reports", b"{not json", 400, "not valid JSON"),
        ("/api/location/tags/GHOST/reports", None, 404, "unknown tags: 'GHOST'"),
        (
            "/api/location/tags/PUMP-1/reports",
            {"t": iso(1), "scan": {"ap-1": -60, "ap-2": 12}},
            422,
            "[1].scan['ap-2']: RSSI 12 dBm is out of range",
        ),
        (
            "/api/location/tags/PUMP-1/reports",
            position(1, 1, (NOW + timedelta(hours=2)).isoformat()),
            422,
            "[1].t is more than 5 minutes in the future",
        ),
        (
            "/api/location/reports",
            {"reports": [{"tag": "PUMP-1", **position(1, 1, iso(9))}] * 1001},
            413,
            "1001 reports; at most 1000",
        ),
        (
            "/api/location/tags/PUMP-1/reports",
            {"t": iso(1), "position": {"building": "A", "level": 3, "x": 1, "y": 1}},
            422,
            "[1].position lacks uncertainty_m",
        ),
        (
            "/api/location/tags/PUMP-1/reports",
            {"t": iso(1), "scan": {"ap-1": -60}},
            503,
            "no positioning engine",
        ),
    ],
)
def test_bad_reports_get_a_precise_error_and_store_nothing(
    database: Database, path: str, body: object, status: int, words: str
) -> None:
    async def scenario(client: Client) -> None:
        await setup_ward(client)
        # A good report in front of the bad one: it must not be stored either.
        payload = body if body is not None else [position(5, 5, iso(3))]
        if isinstance(payload, dict) and path.endswith("/reports") and "reports" not in payload:
            payload = [position(5, 5, iso(3)), payload]
        content = (
            payload
            if isinstance(payload, bytes)
            else httpx.Request("POST", "/", json=payload).content
        )
        response = await client.post(
            path, content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, response.text
        assert words in response.json()["error"]
        missing = await client.get("/api/location/assets/PUMP-1")
        assert missing.status_code == 404 and "not reported a position" in missing.json()["error"]

    run(database, scenario)
