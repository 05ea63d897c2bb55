"""The ASGI application factory: everything is built here, nothing at import time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hygie import __version__
from hygie.config import Settings
from hygie.db.engine import Database, make_engine
from hygie.db.migrate import current_revision, head_revision
from hygie.fhir.router import FhirRouter
from hygie.http.fhir_routes import fhir_route
from hygie.location.radiomap.api import radiomap_router_for
from hygie.location.tracking.api import tracking_router_for
from hygie.location.tracking.mqtt import run_mqtt_ingest
from hygie.location.web import location_web_router
from hygie.record.mhd import PROVIDE_BUNDLE_CHECKS
from hygie.record.notifications import run_first_access_notifier
from hygie.security.context import PrincipalKind
from hygie.security.edge import Edge, context_of
from hygie.security.services import build_security
from hygie.web import portal_router

log = logging.getLogger("hygie.access")
HOME_OF = {PrincipalKind.PATIENT: "/espace", PrincipalKind.PRACTITIONER: "/pro"}


class SchemaNotCurrent(RuntimeError):
    """The database schema is not at the migrations' head: run ``hygie migrate``."""


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    oidc_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The whole Hygie. ``oidc_transport`` carries the calls to the external OpenID Connect
    provider (default: the network; tests pass an in-process transport)."""
    settings = settings or Settings.from_env()
    db = database or Database(make_engine(settings.sqlalchemy_url))
    have, want = current_revision(db.engine), head_revision(db.engine)
    if have != want:
        raise SchemaNotCurrent(
            f"the database schema is at {have or 'nothing'}, this Hygie needs {want}: "
            "run `hygie migrate` first"
        )
    security = build_security(settings, db, oidc_transport=oidc_transport)
    store = security.store
    router = FhirRouter(
        store,
        fhir_base=settings.fhir_base_url,
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
    )
    router.bundles.add_profile_checks(PROVIDE_BUNDLE_CHECKS)  # IHE MHD ITI-65 rules

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if settings.mqtt_url:
            tasks.append(
                asyncio.create_task(run_mqtt_ingest(settings.mqtt_url, running.state.tracking))
            )
        if settings.notify_period_seconds > 0:
            notifier = run_first_access_notifier(
                running.state, period=settings.notify_period_seconds
            )
            tasks.append(asyncio.create_task(notifier))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await security.aclose()
            if database is None:
                db.dispose()

    app = FastAPI(
        title="Hygie",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.store = store
    app.state.fhir_router = router  # domain modules call FHIR through it (http/caller_fhir)
    app.state.security = security
    # /fhir first (every route before it is tried on each FHIR call); it leaves GET
    # /fhir/AuditEvent to the access history router among the security routers.
    app.router.routes.append(
        fhir_route(
            router,
            settings.max_body_bytes,
            inline_reads=db.dialect == "sqlite",
            enforcement=security.enforcement,
            sink=security.audit_sink,
            searches_elsewhere=("AuditEvent",),
        )
    )
    for security_router in security.routers(db):
        app.include_router(security_router)
    # Domain modules mount their routers below, one line each.
    app.include_router(tracking_router_for(app))
    app.include_router(location_web_router(db, store))
    app.include_router(radiomap_router_for(app))
    app.include_router(portal_router(security, db))

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        ctx = context_of(request.scope)
        if ctx is None:
            return RedirectResponse("/connexion", status_code=303)
        space = HOME_OF.get(ctx.principal.kind, "/plan")  # each person's own space
        return RedirectResponse(space, status_code=303)

    @app.get("/health")
    def health() -> Response:
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return JSONResponse({"status": "ok", "version": __version__})

    app.add_middleware(
        Edge,
        tokens=security.oauth.authenticator,
        sessions=security.sessions,
        zone_of=security.zones.zone_of,
        pdp=security.pdp,
        audit=security.audit_sink,
        base_url=settings.base_url,
    )
    app.add_middleware(AccessLog)  # outermost: logs the edge's refusals too
    return app


class AccessLog:
    """One log line per request: method, path, status, time. Never the query string, which can
    carry patient identifiers (uvicorn's own access log is turned off for that reason)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            log.info(
                "%s %s %d %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
