"""With HYGIE_MQTT_URL set, the running app ingests tags' reports from the real broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import aiomqtt
import orjson
from starlette.testclient import TestClient

from hygie.app import create_app
from hygie.db.engine import Database
from tests.apptest import BASE, authorize, demo_settings


def test_the_app_listens_to_the_broker_while_it_runs(database: Database, tmp_path: Path) -> None:
    settings = demo_settings(tmp_path / "data", mqtt_url="mqtt://127.0.0.1:1883")
    tag = f"BED-{uuid.uuid4().hex[:8]}"
    with TestClient(create_app(settings, database=database), base_url=BASE) as client:
        authorize(client)
        created = client.post(
            "/api/location/assets", json={"tag": tag, "kind": "bed", "name": "Lit"}
        )
        assert created.status_code == 201, created.text
        report = {
            "t": time.time(),
            "position": {"building": "A", "level": 1, "x": 12.5, "y": 4.0, "uncertainty_m": 3},
        }

        async def publish() -> None:
            async with aiomqtt.Client("127.0.0.1", 1883) as mqtt:
                await mqtt.publish(f"hygie/tags/{tag}/report", orjson.dumps(report), qos=1)

        position = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # publish until the listener has subscribed
            asyncio.run(publish())
            answer = client.get(f"/api/location/assets/{tag}")
            if answer.status_code == 200:
                position = answer.json()
                break
            time.sleep(0.2)
    assert position is not None, "the report never reached the app"
    assert (position["building"], position["level"], position["x"]) == ("A", 1, 12.5)
