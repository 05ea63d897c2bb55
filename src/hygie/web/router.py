"""The portals' router: the patient's space (/espace), the professional portal (/pro) and
their stylesheet (/static/portail/, public like every static file)."""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.responses import Response

from hygie.db.engine import Database
from hygie.security.services import Security
from hygie.security.sessions.csrf import CsrfGuard
from hygie.web.caller import Gate
from hygie.web.errors import portal_route_class
from hygie.web.patient_routes import add_patient_routes
from hygie.web.portal import Portal
from hygie.web.pro_routes import add_pro_routes
from hygie.web.render import Pages

STYLESHEET = "/static/portail/portail.css"


def portal_router(security: Security, db: Database) -> APIRouter:
    pages = Pages()
    # The same key and origin as the sign-in pages: one CSRF token per session everywhere.
    base = urlsplit(security.settings.base_url)
    csrf = CsrfGuard(security.csrf_key, origin=f"{base.scheme}://{base.netloc}")
    gate = Gate(pages, csrf)
    portal = Portal(pages=pages, gate=gate, security=security, db=db)
    router = APIRouter(route_class=portal_route_class(gate))
    add_patient_routes(router, portal)
    add_pro_routes(router, portal)
    css = (files("hygie.web") / "static" / "portail.css").read_bytes()

    @router.get(STYLESHEET)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    return router
