"""JSON routes of asset tracking, under ``/api/location``. Each parses, calls the service,
and shapes the answer; a :class:`TrackingError` becomes ``{"error": message}`` with its status.

The edge decides every caller but a device; a device reporting a tag is decided here, where
the tag's Device is known (:class:`OwnTagCheck`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from hygie.fhir.dates import format_instant
from hygie.location.tracking.model import (
    AssetPosition,
    IngestResult,
    NearestAsset,
    Place,
    TrackingError,
    Zone,
)
from hygie.location.tracking.reports import parse_batch_body, parse_tag_body
from hygie.location.tracking.service import TrackingService
from hygie.location.tracking.wire import event_json
from hygie.security.audit.sink import AuditSink
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.edge import context_of
from hygie.security.pep.audit import decision_entry
from hygie.security.policy.model import DecisionPoint, ResourceFacts

MAX_BODY_BYTES = 8 * 1024 * 1024
ACTION_REPORT = "location.write"


class _TrackingRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except TrackingError as error:
                return JSONResponse({"error": error.message}, status_code=error.status)

        return handle


class OwnTagCheck:
    """A device reports for its own tag only: the PDP decides ``location.write`` with the
    tag's FHIR Device as the report's author (none for an unknown tag, so a device learns
    nothing of other tags), and the decision is audited, denials too."""

    def __init__(self, service: TrackingService, pdp: DecisionPoint, audit: AuditSink) -> None:
        self._service = service
        self._pdp = pdp
        self._audit = audit

    async def check(self, ctx: RequestContext, tag_id: str) -> None:
        try:
            asset = await run_in_threadpool(self._service.asset, tag_id)
            device: str | None = f"Device/{asset.device_id}"
        except TrackingError:
            device = None
        facts = ResourceFacts("Position", author_refs=frozenset({device} if device else ()))
        decision = self._pdp.decide(ctx, ACTION_REPORT, facts)
        entry = decision_entry(
            ctx, ACTION_REPORT, decision, now=time.time(), resource=device, note="tag report"
        )
        await self._audit.submit_async([entry])
        if not decision.allowed:
            raise TrackingError(403, decision.reason)


def tracking_router_for(app: FastAPI) -> APIRouter:
    """Build the tracking service from the app's database and store (kept on
    ``app.state.tracking`` for the MQTT listener) and return its routes."""
    app.state.tracking = TrackingService(
        app.state.database, app.state.store, positioner=getattr(app.state, "positioner", None)
    )
    security = app.state.security
    own_tag = OwnTagCheck(app.state.tracking, security.pdp, security.audit_sink)
    return tracking_router(app.state.tracking, own_tag)


def tracking_router(service: TrackingService, own_tag: OwnTagCheck) -> APIRouter:
    router = APIRouter(prefix="/api/location", route_class=_TrackingRoute)

    @router.post("/tags/{tag_id}/reports", status_code=202)
    async def tag_reports(tag_id: str, request: Request) -> dict[str, Any]:
        ctx = context_of(request.scope)
        if ctx is not None and ctx.principal.kind is PrincipalKind.DEVICE:
            await own_tag.check(ctx, tag_id)
        reports = parse_tag_body(await _body(request), tag_id, service.clock())
        return _ingested(await run_in_threadpool(service.ingest, reports))

    @router.post("/reports", status_code=202)
    async def batch_reports(request: Request) -> dict[str, Any]:
        reports = parse_batch_body(await _body(request), service.clock())
        return _ingested(await run_in_threadpool(service.ingest, reports))

    @router.post("/assets", status_code=201)
    async def register(request: Request) -> dict[str, Any]:
        body = _object(await _body(request))
        asset = await run_in_threadpool(
            service.register_asset,
            _str(body, "tag"),
            _str(body, "kind"),
            _str(body, "name"),
            home_zone_id=_str(body, "home_zone_id", required=False),
        )
        return {"tag": asset.tag_id, "device": f"Device/{asset.device_id}", "kind": asset.kind}

    @router.put("/assets/{tag_id}/in-use")
    async def in_use(tag_id: str, request: Request) -> dict[str, Any]:
        flag = _object(await _body(request)).get("in_use")
        if not isinstance(flag, bool):
            raise TrackingError(422, "in_use must be true or false")
        asset = await run_in_threadpool(service.set_in_use, tag_id, flag)
        return {"tag": asset.tag_id, "in_use": asset.in_use}

    @router.get("/assets/{tag_id}")
    def where_is(tag_id: str) -> dict[str, Any]:
        return _position(service.where_is(tag_id))

    @router.get("/assets/{tag_id}/history")
    def history(tag_id: str, since: str, until: str, limit: int = 10_000) -> dict[str, Any]:
        samples = service.history(
            tag_id, _instant(since, "since"), _instant(until, "until"), limit=_limit(limit)
        )
        return {
            "tag": tag_id,
            "positions": [{"t": format_instant(s.t_us), **_fix(s.fix)} for s in samples],
        }

    @router.get("/zones")
    def zones() -> dict[str, Any]:
        return {"zones": [_zone(z) for z in service.zones()]}

    @router.post("/zones", status_code=201)
    async def add_zone(request: Request) -> dict[str, Any]:
        zone = _zone_from_json(_object(await _body(request)))
        return _zone(await run_in_threadpool(service.add_zone, zone))

    @router.get("/events")
    def events(
        zone: str | None = None,
        tag: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> dict[str, Any]:
        found = service.events(
            zone_id=zone,
            tag_id=tag,
            since_us=None if since is None else _instant(since, "since"),
            until_us=None if until is None else _instant(until, "until"),
            limit=_limit(limit),
        )
        return {"events": [event_json(e) for e in found]}

    @router.get("/nearest")
    def nearest(
        kind: str, zone: str | None = None, location: str | None = None, count: int = 1
    ) -> dict[str, Any]:
        if (zone is None) == (location is None):
            raise TrackingError(422, "give exactly one of zone or location")
        target = service.zone(zone) if zone else service.zone_for_location(location or "")
        found = service.nearest_available(kind, target.centroid, limit=min(max(count, 1), 50))
        return {"near": target.id, "assets": [_nearest(n) for n in found]}

    return router


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TrackingError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise TrackingError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return body


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TrackingError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TrackingError(422, "the body must be a JSON object")
    return data


def _str(body: dict[str, Any], name: str, *, required: bool = True) -> Any:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise TrackingError(422, f"{name} must be a string")
    return value


def _instant(value: str, name: str) -> int:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TrackingError(422, f"{name}: {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise TrackingError(422, f"{name}: the time must carry its UTC offset")
    return round(moment.timestamp() * 1_000_000)


def _limit(limit: int) -> int:
    if not 1 <= limit <= 10_000:
        raise TrackingError(422, "limit must be between 1 and 10000")
    return limit


def _ingested(result: IngestResult) -> dict[str, Any]:
    return {"stored": result.stored, "events": [event_json(e) for e in result.events]}


def _fix(fix: Any) -> dict[str, Any]:
    place: Place = fix.place
    return {
        "building": place.building,
        "level": place.level,
        "x": place.x,
        "y": place.y,
        "uncertainty_m": fix.uncertainty_m,
        "from_scan": fix.from_scan,
    }


def _position(position: AssetPosition) -> dict[str, Any]:
    return {
        "tag": position.asset.tag_id,
        "device": f"Device/{position.asset.device_id}",
        "kind": position.asset.kind,
        "t": format_instant(position.t_us),
        **_fix(position.fix),
        "zones": list(position.zone_ids),
        "location": None if position.location_id is None else f"Location/{position.location_id}",
    }


def _nearest(found: NearestAsset) -> dict[str, Any]:
    return {**_position(found.position), "distance_m": round(found.distance_m, 2)}


def _zone(zone: Zone) -> dict[str, Any]:
    return {
        "id": zone.id,
        "name": zone.name,
        "kind": zone.kind,
        "building": zone.building,
        "level": zone.level,
        "polygon": [list(p) for p in zone.polygon],
        "margin_m": zone.margin_m,
        "location_id": zone.location_id,
    }


def _zone_from_json(body: dict[str, Any]) -> Zone:
    polygon = body.get("polygon")
    if not isinstance(polygon, list) or not all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
        for p in polygon
    ):
        raise TrackingError(422, "polygon must be a list of [x, y] number pairs")
    level, margin = body.get("level"), body.get("margin_m", 1.0)
    if isinstance(level, bool) or not isinstance(level, int):
        raise TrackingError(422, "level must be an integer")
    if isinstance(margin, bool) or not isinstance(margin, int | float):
        raise TrackingError(422, "margin_m must be a number")
    return Zone(
        _str(body, "id"),
        _str(body, "name"),
        _str(body, "kind"),
        str(_str(body, "building")),
        level,
        tuple((float(x), float(y)) for x, y in polygon),
        float(margin),
        _str(body, "location_id", required=False),
    )
