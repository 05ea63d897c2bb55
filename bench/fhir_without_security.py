"""The FHIR API without the security path, for the benchmarks' "without" figures only.

Hygie's own FHIR engine (the ``FhirRouter`` the app builds, on the same store and data)
called with ``SystemAccess``: no edge, authentication, policy decision or audit append.
Everything else is as Hygie serves FHIR: a FastAPI application with the same middleware
less the edge, the FHIR route first, reads inline on SQLite and in the thread pool on
PostgreSQL, the access log. It is built here, by the benchmarks, and never by the product:
Hygie itself has no switch that turns its security path off.

Served over HTTP by ``bench/run_hygie.sh`` with ``HYGIE_BENCH_APP=without-security``:

    uvicorn fhir_without_security:create_app --factory --app-dir bench  (HYGIE_* environment)
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from hygie.app import AccessLog
from hygie.app import create_app as create_hygie_app
from hygie.config import Settings
from hygie.fhir.access import SystemAccess
from hygie.fhir.http_types import FhirRequest
from hygie.fhir.router import FhirRouter
from hygie.http.fhir_routes import METHODS as FHIR_METHODS
from hygie.http.fhir_routes import to_response


def bare_fhir_app(router: FhirRouter, *, inline_reads: bool) -> ASGIApp:
    """``/fhir`` with SystemAccess, plus ``/health`` for the scripts that wait for a server."""

    async def fhir(request: Request) -> Response:
        fhir_request = FhirRequest(
            method=request.method,
            path=request.path_params["path"].strip("/"),
            query=tuple(request.query_params.multi_items()),
            headers=request.headers,
            body=b"" if request.method == "GET" else await request.body(),
        )
        access = SystemAccess(reason="benchmark without the security path")
        if inline_reads and request.method == "GET":
            return to_response(router.handle(fhir_request, access))
        return to_response(await run_in_threadpool(router.handle, fhir_request, access))

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.router.routes.append(Route("/fhir{path:path}", fhir, methods=FHIR_METHODS))

    @app.get("/health")
    def health() -> Response:
        return JSONResponse({"status": "ok"})

    app.add_middleware(AccessLog)
    return app


def create_app() -> ASGIApp:
    """The uvicorn factory: Hygie's FHIR engine from the HYGIE_* environment, unguarded."""
    settings = Settings.from_env()
    logging.getLogger().setLevel(settings.log_level)  # as `hygie serve` does: same access log
    hygie = create_hygie_app(settings)
    return bare_fhir_app(
        hygie.state.fhir_router, inline_reads=hygie.state.database.dialect == "sqlite"
    )
