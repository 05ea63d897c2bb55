"""/connexion (password), /connexion/second-facteur (TOTP, recovery code, passkey), /deconnexion."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from starlette.responses import JSONResponse, Response

from hygie.security.accounts import Account, SignInFailed
from hygie.security.context import Aal
from hygie.security.sessions.csrf import CSRF_HEADER, PRE_SESSION_COOKIE
from hygie.security.sessions.deps import Deps, SignedIn
from hygie.security.sessions.service import SESSION_COOKIE
from hygie.security.sessions.web import (
    SECURITY_HEADERS,
    clear_cookie,
    client_ip,
    local_path,
    redirect,
    set_cookie,
    with_next,
)

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
BAD_CODE = "Code incorrect ou déjà utilisé."
PASSKEY_TTL = 300
Field = Annotated[str, Form()]


def wait_fr(seconds: int) -> str:
    minutes = -(-seconds // 60)
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def start_session(
    deps: Deps,
    request: Request,
    account: Account,
    aal: Aal,
    next_path: str,
    auth_time: int | None = None,
) -> Response:
    """Replace any session of this browser and send the user to the step they still owe."""
    old = deps.sessions.lookup(request.cookies.get(SESSION_COOKIE, ""))
    if old is not None:
        deps.sessions.revoke(old.id)
    _, secret = deps.sessions.start(
        account,
        aal,
        source_ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        auth_time=auth_time,
    )
    factors = deps.accounts.second_factors(account.id)
    if aal >= Aal.TWO:
        target = next_path
    elif factors:
        target = with_next("/connexion/second-facteur", next_path)
    else:
        target = with_next("/compte/securite", next_path)
    response = redirect(target)
    set_cookie(response, SESSION_COOKIE, secret)
    clear_cookie(response, PRE_SESSION_COOKIE)
    return response


def add_signin_routes(router: APIRouter, deps: Deps) -> None:
    pages, csrf = deps.pages, deps.csrf

    def login_page(
        request: Request, next_path: str, status: int = 200, error: str = ""
    ) -> Response:
        nonce = csrf.new_nonce()
        providers = deps.oidc.providers() if deps.oidc else []
        response = pages.render(
            "connexion.html",
            status,
            csrf=csrf.pre_session_token(nonce),
            next=next_path,
            error=error,
            providers=providers,
            username=request.query_params.get("identifiant", ""),
        )
        set_cookie(response, PRE_SESSION_COOKIE, nonce, max_age=3600)
        return response

    @router.get("/connexion")
    def login_form(request: Request, next: str = "/") -> Response:
        return login_page(request, local_path(next))

    @router.post("/connexion")
    def login(
        request: Request,
        username: Field = "",
        password: Field = "",
        csrf_token: Annotated[str, Form(alias="csrf")] = "",
        next: Field = "/",
    ) -> Response:
        nonce = request.cookies.get(PRE_SESSION_COOKIE)
        if not csrf.check_pre_session(nonce, csrf_token, request.headers.get("origin")):
            return pages.forbidden()
        try:
            account = deps.accounts.check_password(username, password, source_ip=client_ip(request))
        except SignInFailed as failed:
            if failed.retry_after:
                error = (
                    "Trop de tentatives de connexion. Réessayez dans "
                    f"{wait_fr(failed.retry_after)}."
                )
                return login_page(request, local_path(next), 429, error)
            return login_page(request, local_path(next), 401, BAD_CREDENTIALS)
        return start_session(deps, request, account, Aal.ONE, local_path(next))

    def factor_page(user: SignedIn, next_path: str, status: int = 200, error: str = "") -> Response:
        return pages.render(
            "second_facteur.html",
            status,
            csrf=csrf.token(user.session.id),
            next=next_path,
            error=error,
            factors=user.factors,
            account=user.account,
        )

    @router.get("/connexion/second-facteur")
    def factor_form(request: Request, next: str = "/") -> Response:
        user = deps.signed_in(request)
        if user is None or not user.factors:
            return redirect(with_next("/connexion", local_path(next)))
        return factor_page(user, local_path(next))

    @router.post("/connexion/second-facteur")
    def factor(
        request: Request,
        methode: Field = "",
        code: Field = "",
        csrf_token: Annotated[str, Form(alias="csrf")] = "",
        next: Field = "/",
    ) -> Response:
        user = deps.signed_in(request)
        if user is None:
            return redirect(with_next("/connexion", local_path(next)))
        if not deps.csrf_ok(request, user, csrf_token):
            return pages.forbidden()
        code = code.strip().replace(" ", "")
        if methode == "totp" and "totp" in user.factors:
            accepted = deps.accounts.verify_totp(user.account.id, code)
        elif methode == "secours":
            accepted = deps.accounts.verify_recovery_code(user.account.id, code)
        else:
            accepted = False
        if accepted:
            return elevated(user, local_path(next))
        if deps.sessions.factor_failed(user.session.id):
            response = login_page(
                request, local_path(next), 401, "Trop de codes incorrects : reconnectez-vous."
            )
            clear_cookie(response)
            return response
        return factor_page(user, local_path(next), 401, BAD_CODE)

    def elevated(user: SignedIn, next_path: str) -> Response:
        secret = deps.sessions.elevate(user.session.id, Aal.TWO)
        response = redirect(next_path)
        set_cookie(response, SESSION_COOKIE, secret)
        return response

    @router.post("/connexion/second-facteur/passkey/options")
    def passkey_options(request: Request) -> Response:
        user = deps.signed_in(request)
        if user is None or not deps.csrf_ok(request, user, request.headers.get(CSRF_HEADER)):
            return JSONResponse({"error": "refusé"}, 403, headers=SECURITY_HEADERS)
        options, state = deps.accounts.passkey_authentication_options(
            user.account.id, rp_id=deps.rp_id
        )
        deps.pending.put("webauthn-auth", user.session.id, state, ttl=PASSKEY_TTL)
        return Response(options, media_type="application/json", headers=SECURITY_HEADERS)

    @router.post("/connexion/second-facteur/passkey")
    def passkey(
        request: Request, credential: Annotated[dict[str, Any], Body()], next: str = "/"
    ) -> Response:
        user = deps.signed_in(request)
        if user is None or not deps.csrf_ok(request, user, request.headers.get(CSRF_HEADER)):
            return JSONResponse({"error": "refusé"}, 403, headers=SECURITY_HEADERS)
        state = deps.pending.take("webauthn-auth", user.session.id)
        if state is None or not deps.accounts.finish_passkey_authentication(
            user.account.id,
            json.dumps(credential),
            state=state,
            origin=csrf.origin,
            rp_id=deps.rp_id,
        ):
            deps.sessions.factor_failed(user.session.id)
            return JSONResponse({"error": "Clé d'accès refusée."}, 401, headers=SECURITY_HEADERS)
        secret = deps.sessions.elevate(user.session.id, Aal.TWO)
        response = JSONResponse({"next": local_path(next)}, headers=SECURITY_HEADERS)
        set_cookie(response, SESSION_COOKIE, secret)
        return response

    @router.post("/deconnexion")
    def logout(request: Request, csrf_token: Annotated[str, Form(alias="csrf")] = "") -> Response:
        user = deps.signed_in(request)
        if user is not None:
            if not deps.csrf_ok(request, user, csrf_token):
                return pages.forbidden()
            deps.sessions.revoke(user.session.id)
        response = redirect("/connexion")
        clear_cookie(response)
        return response
