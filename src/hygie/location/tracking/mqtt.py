"""Tag reports in over MQTT, zone events out over MQTT.

Tags publish to ``{prefix}/tags/{tag_id}/report`` the same JSON as the HTTP API takes (one
report or an array). Zone events, whatever the source of the fix, go to
``{prefix}/zones/{zone_id}/events``. The app starts :func:`run_mqtt_ingest` in its lifespan
when an MQTT broker URL is configured (``mqtt://user:password@host:1883``, or ``mqtts://``
for TLS). A malformed message is logged (tag and reason, never the payload) and dropped;
a lost connection is retried; only cancellation stops the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson
from sqlalchemy.exc import SQLAlchemyError

from hygie.location.tracking.model import TagReport, TrackingError, ZoneEvent
from hygie.location.tracking.reports import parse_tag_body
from hygie.location.tracking.service import TrackingService
from hygie.location.tracking.wire import event_json

log = logging.getLogger("hygie.location.mqtt")


def broker_options(url: str) -> dict[str, Any]:
    """aiomqtt.Client keyword arguments for an ``mqtt://`` or ``mqtts://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("the MQTT URL must look like mqtt://host:1883 or mqtts://host:8883")
    return {
        "hostname": parts.hostname,
        "port": parts.port or (8883 if parts.scheme == "mqtts" else 1883),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "tls_context": ssl.create_default_context() if parts.scheme == "mqtts" else None,
        "identifier": f"hygie-tracking-{uuid.uuid4().hex[:12]}",
    }


async def run_mqtt_ingest(
    broker_url: str,
    service: TrackingService,
    *,
    topic_prefix: str = "hygie",
    max_batch: int = 1000,
    reconnect_seconds: float = 2.0,
) -> None:
    """Ingest tag reports from the broker until cancelled."""
    options = broker_options(broker_url)
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[ZoneEvent] = asyncio.Queue(maxsize=100_000)

    def forward(event: ZoneEvent) -> None:  # called from the ingesting thread
        loop.call_soon_threadsafe(_offer, outbox, event)

    unsubscribe = service.subscribe(forward)
    try:
        while True:
            try:
                async with aiomqtt.Client(**options) as client:
                    # QoS 0: a lost fix is replaced by the next one, and no acknowledgement
                    # window throttles the broker while a batch is being stored.
                    await client.subscribe(f"{topic_prefix}/tags/+/report", qos=0)
                    publisher = asyncio.create_task(_publish(client, outbox, topic_prefix))
                    try:
                        await _consume(client, service, topic_prefix, max_batch)
                    finally:
                        publisher.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await publisher
            except aiomqtt.MqttError as exc:
                log.warning("MQTT connection failed (%s); retrying in %g s", exc, reconnect_seconds)
                await asyncio.sleep(reconnect_seconds)
    finally:
        unsubscribe()


def _offer(outbox: asyncio.Queue[ZoneEvent], event: ZoneEvent) -> None:
    try:
        outbox.put_nowait(event)
    except asyncio.QueueFull:
        log.error("MQTT event outbox full: zone event for %s dropped", event.zone_id)


async def _publish(client: aiomqtt.Client, outbox: asyncio.Queue[ZoneEvent], prefix: str) -> None:
    while True:
        event = await outbox.get()
        try:
            await client.publish(
                f"{prefix}/zones/{event.zone_id}/events", orjson.dumps(event_json(event)), qos=1
            )
        except aiomqtt.MqttError as error:  # the consumer notices a lost connection too
            log.warning("zone event for %s not published: %s", event.zone_id, error)


async def _consume(
    client: aiomqtt.Client, service: TrackingService, prefix: str, max_batch: int
) -> None:
    messages = client.messages
    while True:
        # Take what has queued up since the last batch: large batches under load, no wait idle.
        batch = [await anext(messages)]
        while len(batch) < max_batch and len(messages):
            batch.append(await anext(messages))
        now_us = service.clock()
        reports = [r for m in batch for r in _decode(m, prefix, now_us)]
        known = service.known_tags({r.tag_id for r in reports})
        for tag in {r.tag_id for r in reports} - known:
            log.warning("MQTT report dropped: unknown tag %r", tag[:64])
        reports = [r for r in reports if r.tag_id in known]
        if not reports:
            continue
        try:
            await asyncio.to_thread(service.ingest, reports)
        except TrackingError as error:
            log.warning("a batch of %d MQTT reports was dropped: %s", len(reports), error.message)
        except SQLAlchemyError as error:  # the database is down: drop, keep listening
            log.error("a batch of %d MQTT reports was not stored: %s", len(reports), type(error))


def _decode(message: aiomqtt.Message, prefix: str, now_us: int) -> list[TagReport]:
    levels = message.topic.value.split("/")
    tag_id = levels[-2] if len(levels) >= 3 else ""
    payload = message.payload
    if not isinstance(payload, bytes | bytearray):
        log.warning("MQTT report dropped on %s/tags/%s/report: empty payload", prefix, tag_id[:64])
        return []
    try:
        return parse_tag_body(bytes(payload), tag_id, now_us)
    except TrackingError as error:
        log.warning("MQTT report from tag %r dropped: %s", tag_id[:64], error.message)
        return []
