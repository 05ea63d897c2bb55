"""HTTP for wayfinding: the patient page, the staff page and the JSON route API."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, JSONResponse, Response

from hygie.db.engine import Database
from hygie.location.venue.errors import UnknownVenue
from hygie.location.wayfinding.places import UnknownPlace
from hygie.location.wayfinding.route import NoRoute
from hygie.location.wayfinding.service import WayfindingService
from hygie.location.web.markers import AssetMarkerSource
from hygie.location.web.pages import plan_page, staff_page

if TYPE_CHECKING:
    from hygie.fhir.store import FhirStore

_TRUE = frozenset({"1", "true", "on", "oui", "yes"})


def _error(status: int, code: str, message: str, **extra: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def location_web_router(
    database: Database,
    store: FhirStore | None = None,
    *,
    asset_markers: AssetMarkerSource | None = None,
) -> APIRouter:
    """The pages ``/plan`` and ``/plan/personnel`` and the API ``/api/location/route``."""
    service = WayfindingService(database, store)
    templates = Environment(
        loader=PackageLoader("hygie.location.web", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    css = (files("hygie.location.web") / "static" / "plan.css").read_bytes()
    router = APIRouter()

    def render(name: str, status: int = 200, **context: object) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status)

    def no_venue() -> HTMLResponse:
        return render("error.html", 404, message="Aucun plan n'a encore été importé.")

    @router.get("/plan", response_class=HTMLResponse)
    def plan(
        depart: str | None = None, destination: str | None = None, accessible: str | None = None
    ) -> HTMLResponse:
        try:
            page = plan_page(service, depart, destination, (accessible or "") in _TRUE)
        except UnknownVenue:
            return no_venue()
        return render("plan.html", page.status, **page.context())

    @router.get("/plan/personnel", response_class=HTMLResponse)
    def staff(level: str | None = None) -> HTMLResponse:
        try:
            page = staff_page(service, level, asset_markers)
        except UnknownVenue:
            return render("error.html", 404, message="Plan ou niveau inconnu.")
        return render("staff.html", page=page)

    @router.get("/plan/static/plan.css")
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @router.get("/api/location/route")
    def route_api(request: Request) -> JSONResponse:
        return route_response(service, request.query_params)

    return router


def route_response(service: WayfindingService, query: Mapping[str, str]) -> JSONResponse:
    """``from``, ``to``, optional ``accessible`` and ``venue``: the route, or a precise error."""
    origin, destination = query.get("from"), query.get("to")
    if not origin or not destination:
        return _error(400, "missing_parameter", "both 'from' and 'to' are required")
    try:
        graph, route = service.route(
            origin,
            destination,
            accessible=query.get("accessible", "").lower() in _TRUE,
            venue_id=query.get("venue"),
        )
    except UnknownVenue as exc:
        return _error(404, "unknown_venue", f"no venue {exc.args[0]!r} has been imported")
    except UnknownPlace as exc:
        status = 404 if exc.parameter == "to" else 400
        return _error(
            status, "unknown_place", exc.message, parameter=exc.parameter, value=exc.value
        )
    except NoRoute as exc:
        return _error(404, "no_route", exc.message)
    return JSONResponse(route.to_json(graph))
