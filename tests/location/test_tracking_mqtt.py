"""Tags over the real Mosquitto at 127.0.0.1:1883: reports in, zone events out, and
malformed messages logged without their payload, dropped, and survived."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import aiomqtt
import orjson
import pytest

from hygie.db.engine import Database
from hygie.fhir.store import FhirStore
from hygie.location.tracking.geofence import Debounce
from hygie.location.tracking.model import TrackingError, Zone
from hygie.location.tracking.mqtt import run_mqtt_ingest
from hygie.location.tracking.service import TrackingService

BROKER = "mqtt://127.0.0.1:1883"


def report(x: float, seconds_ago: float) -> bytes:
    t = time.time() - seconds_ago
    position = {"building": "A", "level": 3, "x": x, "y": 5, "uncertainty_m": 2}
    return orjson.dumps({"t": t, "position": position})


def test_reports_in_and_events_out_over_mqtt(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    service = TrackingService(database, FhirStore(database), debounce=Debounce(2, 30, 2, 30))
    ward = ((0.0, 0.0), (40.0, 0.0), (40.0, 20.0), (0.0, 20.0))
    service.add_zone(Zone("ward-3b", "Cardiologie 3B", "service", "A", 3, ward))
    service.register_asset("PUMP-1", "infusion-pump", "Pompe 1", home_zone_id="ward-3b")
    service.register_asset("PROBE", "monitor", "Sonde")
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    caplog.set_level(logging.WARNING, logger="hygie.location.mqtt")

    async def scenario() -> list[dict[str, object]]:
        listener = asyncio.create_task(run_mqtt_ingest(BROKER, service, topic_prefix=prefix))
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            await client.subscribe(f"{prefix}/zones/+/events", qos=1)
            await wait_until_listening(client, prefix, service)
            tags = f"{prefix}/tags"
            await client.publish(f"{tags}/PUMP-1/report", b'{"t": "tok-SECRET-42"', qos=1)
            await client.publish(f"{tags}/GHOST/report", report(5, 30), qos=1)
            bad_rssi = orjson.dumps({"scan": {"ap-1": 40}})
            await client.publish(f"{tags}/PUMP-1/report", bad_rssi, qos=1)
            for i, x in enumerate((5, 6, 50, 51)):  # into the ward, then out of it
                await client.publish(f"{tags}/PUMP-1/report", report(x, 20 - i), qos=1)
            events = []
            async with asyncio.timeout(10):
                async for message in client.messages:
                    assert message.topic.matches(f"{prefix}/zones/ward-3b/events")
                    assert isinstance(message.payload, bytes)
                    events.append(orjson.loads(message.payload))
                    if len(events) == 3:
                        break
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener
        return events

    events = asyncio.run(scenario())
    assert [(e["tag"], e["kind"], e["rule"]) for e in events] == [
        ("PUMP-1", "enter", None),
        ("PUMP-1", "leave", None),
        ("PUMP-1", "alert", "left-home-service"),
    ]
    assert len(service.history("PUMP-1", 0, time.time_ns() // 1000)) == 4
    dropped = [r.getMessage() for r in caplog.records]
    assert any("PUMP-1" in m and "not valid JSON" in m for m in dropped)
    assert any("unknown tag 'GHOST'" in m for m in dropped)
    assert any("RSSI 40 dBm is out of range" in m for m in dropped)
    assert "SECRET" not in caplog.text


async def wait_until_listening(
    client: aiomqtt.Client, prefix: str, service: TrackingService
) -> None:
    """Publish a probe's position until the listener has stored one: it is subscribed then."""
    async with asyncio.timeout(10):
        while True:
            await client.publish(f"{prefix}/tags/PROBE/report", report(100, 60), qos=1)
            await asyncio.sleep(0.1)
            try:
                service.where_is("PROBE")
                return
            except TrackingError:
                continue
