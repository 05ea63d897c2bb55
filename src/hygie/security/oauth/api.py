"""HTTP routes of the authorization server: discovery, JWKS, authorize, token, introspect,
revoke, userinfo. Bodies are parsed here (form-encoded, each parameter at most once); the
logic is in :class:`AuthorizationServer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hygie.security.oauth import discovery, pages
from hygie.security.oauth import server as paths
from hygie.security.oauth.authorize import Page, Redirect
from hygie.security.oauth.errors import AuthenticationFailed, OAuthError
from hygie.security.oauth.server import AuthorizationServer
from hygie.security.oauth.token_endpoint import NO_STORE

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 64 * 1024


async def _form_items(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise OAuthError("invalid_request", f"the body must be {FORM_TYPE}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the body is too large")
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body must be UTF-8") from None


async def _single_form(request: Request) -> dict[str, str]:
    items = await _form_items(request)
    names = [name for name, _ in items]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise OAuthError("invalid_request", f"repeated parameters: {', '.join(repeated)}")
    return dict(items)


def _error(error: OAuthError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=NO_STORE | error.headers)


def _page_or_redirect(result: Page | Redirect) -> Response:
    if isinstance(result, Redirect):
        return RedirectResponse(result.url, status_code=303, headers=NO_STORE)
    return HTMLResponse(result.html, status_code=result.status, headers=pages.PAGE_HEADERS)


async def _json_endpoint(
    request: Request, handle: Callable[[dict[str, str], str | None], Any]
) -> Response:
    try:
        form = await _single_form(request)
        result = await run_in_threadpool(handle, form, request.headers.get("authorization"))
    except OAuthError as error:
        return _error(error)
    if isinstance(result, Response):
        return result
    return JSONResponse(result, headers=NO_STORE)


def oauth_router(server: AuthorizationServer) -> APIRouter:
    router = APIRouter()

    @router.get("/.well-known/openid-configuration")
    def openid_configuration() -> dict[str, Any]:
        return discovery.openid_configuration(server)

    @router.get("/.well-known/smart-configuration")
    def smart_configuration() -> dict[str, Any]:
        return discovery.smart_configuration(server)

    @router.get(paths.JWKS_PATH)
    def jwks() -> dict[str, Any]:
        return server.key.jwks()

    @router.api_route(paths.AUTHORIZE_PATH, methods=["GET", "POST"])
    async def authorize(request: Request) -> Response:
        if request.method == "GET":
            items = request.query_params.multi_items()
        else:
            try:
                items = await _form_items(request)
            except OAuthError as error:
                return HTMLResponse(
                    pages.error_page(error.description), 400, headers=pages.PAGE_HEADERS
                )
        ctx = server.page_context(request)
        result = await run_in_threadpool(server.authorizer.start, items, ctx)
        return _page_or_redirect(result)

    @router.post(paths.CONSENT_PATH)
    async def consent(request: Request) -> Response:
        try:
            form = await _single_form(request)
        except OAuthError as error:
            return HTMLResponse(
                pages.error_page(error.description), 400, headers=pages.PAGE_HEADERS
            )
        ctx = server.page_context(request)
        result = await run_in_threadpool(server.authorizer.decide, form, ctx)
        return _page_or_redirect(result)

    @router.post(paths.TOKEN_PATH)
    async def token(request: Request) -> Response:
        dpop = request.headers.get("dpop")

        def handle(form: dict[str, str], authorization: str | None) -> Response:
            answer = server.token(form, authorization=authorization, dpop=dpop)
            return JSONResponse(answer.body, headers=answer.headers)

        return await _json_endpoint(request, handle)

    @router.post(paths.INTROSPECT_PATH)
    async def introspect(request: Request) -> Response:
        return await _json_endpoint(
            request, lambda form, auth: server.introspect(form, authorization=auth)
        )

    @router.post(paths.REVOKE_PATH)
    async def revoke(request: Request) -> Response:
        def handle(form: dict[str, str], authorization: str | None) -> Response:
            server.revoke(form, authorization=authorization)
            return Response(status_code=200, headers=NO_STORE)

        return await _json_endpoint(request, handle)

    @router.api_route(paths.USERINFO_PATH, methods=["GET", "POST"])
    async def userinfo(request: Request) -> Response:
        def handle() -> dict[str, Any]:
            ctx = server.authenticator.authenticate(
                method=request.method,
                url=server.url(paths.USERINFO_PATH),
                authorization=request.headers.get("authorization"),
                dpop=request.headers.get("dpop"),
                network_zone="",
                source_ip="",
            )
            if ctx is None:
                raise AuthenticationFailed(
                    "an access token is required", www_authenticate='Bearer realm="hygie"'
                )
            if "openid" not in {scope.raw for scope in ctx.scopes}:
                raise AuthenticationFailed(
                    "the token has no openid scope",
                    status=403,
                    www_authenticate='Bearer realm="hygie", error="insufficient_scope"',
                )
            claims: dict[str, Any] = {"sub": ctx.principal.id, "name": ctx.principal.display}
            if ctx.principal.fhir_ref:
                claims["fhirUser"] = f"{server.fhir_base}/{ctx.principal.fhir_ref}"
            return claims

        try:
            return JSONResponse(await run_in_threadpool(handle), headers=NO_STORE)
        except AuthenticationFailed as failed:
            return JSONResponse(
                {"error": "invalid_token", "error_description": failed.message},
                status_code=failed.status,
                headers=NO_STORE | {"WWW-Authenticate": failed.www_authenticate},
            )

    return router
