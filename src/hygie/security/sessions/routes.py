"""The sign-in and account pages as one router, and the page-context factory for others."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from fastapi import APIRouter, Request
from starlette.responses import Response

from hygie.db.engine import Database
from hygie.security.accounts import AccountService
from hygie.security.context import RequestContext
from hygie.security.sessions.account_routes import add_account_routes
from hygie.security.sessions.csrf import CsrfGuard
from hygie.security.sessions.deps import Deps
from hygie.security.sessions.oidc_routes import add_oidc_routes
from hygie.security.sessions.oidc_signin import OidcSignIn
from hygie.security.sessions.pending import PendingStore
from hygie.security.sessions.service import SESSION_COOKIE, SessionService
from hygie.security.sessions.signin_routes import add_signin_routes
from hygie.security.sessions.web import Pages, client_ip

_STATIC = {"auth.css": "text/css", "passkey.js": "text/javascript"}


def sessions_router(
    db: Database,
    sessions: SessionService,
    accounts: AccountService,
    *,
    csrf_key: bytes,
    public_origin: str,
    rp_id: str,
    rp_name: str = "Hygie",
    oidc: OidcSignIn | None = None,
    fresh_for: int = 300,
) -> APIRouter:
    """Pages under /connexion, /deconnexion and /compte; ``public_origin`` is the exact
    ``https://host[:port]`` browsers use (Origin checks, WebAuthn), ``rp_id`` its host name.
    """
    deps = Deps(
        sessions=sessions,
        accounts=accounts,
        csrf=CsrfGuard(csrf_key, origin=public_origin),
        pages=Pages(),
        pending=PendingStore(db, clock=sessions.now),
        rp_id=rp_id,
        rp_name=rp_name,
        oidc=oidc,
        fresh_for=fresh_for,
    )
    router = APIRouter()
    add_signin_routes(router, deps)
    add_account_routes(router, deps)
    if oidc is not None:
        add_oidc_routes(router, deps, oidc)
    static = {
        name: (files("hygie.security.sessions") / "static" / name).read_bytes() for name in _STATIC
    }

    @router.get("/connexion/static/{name}")
    def asset(name: str) -> Response:
        if name not in static:
            return Response(status_code=404)
        return Response(
            static[name], media_type=_STATIC[name], headers={"Cache-Control": "max-age=3600"}
        )

    return router


def page_context_factory(
    sessions: SessionService, zone_of: Callable[[str], str]
) -> Callable[[Request], RequestContext | None]:
    """``page_context(request)``: the signed-in browser user's context, or None."""

    def page_context(request: Request) -> RequestContext | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        ip = client_ip(request)
        return sessions.context(cookie, network_zone=zone_of(ip), source_ip=ip)

    return page_context
