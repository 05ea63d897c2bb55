"""``POST /api/location/locate``: WiFi scans to positions with the live positioner.

The router's lifespan starts the first training in the background, so the app starts at
once; until the positioner is ready the route answers 503 (in French and English), and
asset tracking keeps its own 503 for scans, as without a radio map.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from hygie.location.positioning import Fix, RadioMapError
from hygie.location.radiomap.live import LivePositioner, NoRadioMap
from hygie.location.radiomap.scans import MAX_BODY_BYTES, LocateError, parse_locate_body

_NOT_LOADED = (
    "Aucune carte radio n'est chargée : importez-en une avec `hygie location radiomap-import`. / "
    "No radio map is loaded: import one with `hygie location radiomap-import`."
)
_LOADING = (
    "La carte radio est en cours de chargement, réessayez dans quelques secondes. / "
    "The radio map is loading, retry in a few seconds."
)


def radiomap_router_for(app: FastAPI) -> APIRouter:
    """The live positioner on ``app.state.radiomap``; once trained it also becomes
    ``app.state.positioner`` and the positioner of asset tracking (mounted before this)."""

    def first_ready(live: LivePositioner) -> None:
        app.state.positioner = live
        tracking = getattr(app.state, "tracking", None)
        if tracking is not None:
            tracking.positioner = live

    app.state.radiomap = LivePositioner(app.state.database, on_first=first_ready)
    return radiomap_router(app.state.radiomap)


def radiomap_router(live: LivePositioner) -> APIRouter:
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await run_in_threadpool(live.refresh, force=True)
        yield
        await run_in_threadpool(live.wait, 30.0)

    router = APIRouter(prefix="/api/location", lifespan=lifespan)

    @router.post("/locate")
    async def locate(request: Request) -> Response:
        try:
            scans, single = parse_locate_body(await _body(request))
            fixes = await run_in_threadpool(live.locate, scans)
        except LocateError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        except RadioMapError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        except NoRadioMap as error:
            headers = {"Retry-After": "5"} if error.training else None
            message = _LOADING if error.training else _NOT_LOADED
            return JSONResponse({"error": message}, status_code=503, headers=headers)
        found = [_fix(f) for f in fixes]
        return JSONResponse({"fix": found[0]} if single else {"fixes": found})

    return router


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise LocateError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise LocateError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


def _fix(fix: Fix) -> dict[str, Any]:
    return {
        "building": fix.building,
        "level": fix.level,
        "x": round(fix.x, 2),
        "y": round(fix.y, 2),
        "uncertainty_m": round(fix.uncertainty_m, 2),
        "level_confidence": round(fix.level_confidence, 3),
        "aps_used": fix.aps_used,
    }
