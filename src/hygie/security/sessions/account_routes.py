"""/compte/securite (second factors) and /compte/sessions (active sessions, revocation).

Changing second factors is a sensitive action: it needs an authentication younger than
``Deps.fresh_for``, else the user is sent to prove their identity again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from markupsafe import Markup
from starlette.responses import JSONResponse, Response

from hygie.security.context import Aal
from hygie.security.sessions.csrf import CSRF_HEADER
from hygie.security.sessions.deps import Deps, SignedIn
from hygie.security.sessions.service import SESSION_COOKIE
from hygie.security.sessions.web import (
    SECURITY_HEADERS,
    clear_cookie,
    local_path,
    redirect,
    set_cookie,
)

SECURITY_PAGE = "/compte/securite"
Csrf = Annotated[str, Form(alias="csrf")]


def add_account_routes(router: APIRouter, deps: Deps) -> None:
    pages = deps.pages

    def security_page(user: SignedIn, status: int = 200, **extra: Any) -> Response:
        context = {
            "csrf": deps.csrf.token(user.session.id),
            "account": user.account,
            "factors": user.factors,
            "fresh": deps.fresh(user),
        }
        return pages.render("securite.html", status, **(context | extra))

    def sensitive(request: Request, token: str | None) -> SignedIn | Response:
        """The user allowed to change their factors now, or the response refusing it."""
        user = deps.require(request)
        if not isinstance(user, SignedIn):
            return user
        if not deps.csrf_ok(request, user, token):
            return pages.forbidden()
        if not deps.fresh(user):
            return deps.reauthenticate(user, SECURITY_PAGE)
        return user

    @router.get(SECURITY_PAGE)
    def security(request: Request, next: str = "/") -> Response:
        user = deps.require(request)
        if not isinstance(user, SignedIn):
            return user
        return security_page(user, next=local_path(next))

    @router.post(f"{SECURITY_PAGE}/totp")
    def totp_begin(request: Request, csrf: Csrf = "") -> Response:
        user = sensitive(request, csrf)
        if not isinstance(user, SignedIn):
            return user
        enrolment = deps.accounts.begin_totp(user.account.id)
        return security_page(user, enrolment=enrolment, qr=Markup(enrolment.qr_svg))  # noqa: S704

    @router.post(f"{SECURITY_PAGE}/totp/confirmer")
    def totp_confirm(
        request: Request, code: Annotated[str, Form()] = "", csrf: Csrf = ""
    ) -> Response:
        user = sensitive(request, csrf)
        if not isinstance(user, SignedIn):
            return user
        try:
            codes = deps.accounts.confirm_totp(user.account.id, code.strip().replace(" ", ""))
        except ValueError:
            return security_page(
                user, 400, error="Code incorrect : l'application n'est pas activée."
            )
        # The user just proved possession of the new factor: the session is now AAL2.
        secret = deps.sessions.elevate(user.session.id, Aal.TWO)
        response = security_page(user, recovery_codes=codes, factors=user.factors | {"totp"})
        set_cookie(response, SESSION_COOKIE, secret)
        return response

    @router.post(f"{SECURITY_PAGE}/passkey/options")
    def passkey_options(request: Request) -> Response:
        user = sensitive(request, request.headers.get(CSRF_HEADER))
        if not isinstance(user, SignedIn):
            return JSONResponse({"error": "refusé"}, 403, headers=SECURITY_HEADERS)
        options, state = deps.accounts.passkey_registration_options(
            user.account.id, rp_id=deps.rp_id, rp_name=deps.rp_name
        )
        deps.pending.put("webauthn-register", user.session.id, state, ttl=300)
        return Response(options, media_type="application/json", headers=SECURITY_HEADERS)

    @router.post(f"{SECURITY_PAGE}/passkey")
    def passkey_register(
        request: Request, credential: Annotated[dict[str, Any], Body()]
    ) -> Response:
        user = sensitive(request, request.headers.get(CSRF_HEADER))
        if not isinstance(user, SignedIn):
            return JSONResponse({"error": "refusé"}, 403, headers=SECURITY_HEADERS)
        state = deps.pending.take("webauthn-register", user.session.id)
        try:
            if state is None:
                raise ValueError("no registration in progress")
            deps.accounts.finish_passkey_registration(
                user.account.id,
                json.dumps(credential),
                state=state,
                origin=deps.csrf.origin,
                rp_id=deps.rp_id,
            )
        except ValueError:
            return JSONResponse({"error": "Clé d'accès refusée."}, 400, headers=SECURITY_HEADERS)
        # As with TOTP: possession of the new factor (with user verification) is proven.
        response = JSONResponse({"next": SECURITY_PAGE}, headers=SECURITY_HEADERS)
        set_cookie(response, SESSION_COOKIE, deps.sessions.elevate(user.session.id, Aal.TWO))
        return response

    @router.get("/compte/sessions")
    def sessions_page(request: Request) -> Response:
        user = deps.require(request)
        if not isinstance(user, SignedIn):
            return user
        return pages.render(
            "sessions.html",
            csrf=deps.csrf.token(user.session.id),
            account=user.account,
            current=user.session.id,
            sessions=deps.sessions.list_for(user.account.id),
        )

    @router.post("/compte/sessions/revoquer")
    def revoke(request: Request, session: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
        user = deps.require(request)
        if not isinstance(user, SignedIn):
            return user
        if not deps.csrf_ok(request, user, csrf):
            return pages.forbidden()
        if session not in {s.id for s in deps.sessions.list_for(user.account.id)}:
            return pages.message(
                404, "Session inconnue", "Cette session n'existe pas ou est déjà close."
            )
        deps.sessions.revoke(session)
        if session == user.session.id:
            response = redirect("/connexion")
            clear_cookie(response)
            return response
        return redirect("/compte/sessions")

    @router.post("/compte/sessions/revoquer-autres")
    def revoke_others(request: Request, csrf: Csrf = "") -> Response:
        user = deps.require(request)
        if not isinstance(user, SignedIn):
            return user
        if not deps.csrf_ok(request, user, csrf):
            return pages.forbidden()
        deps.sessions.revoke_all(user.account.id, keep=user.session.id)
        return redirect("/compte/sessions")
