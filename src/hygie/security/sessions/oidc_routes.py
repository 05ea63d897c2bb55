"""/connexion/oidc/{provider} and its callback /connexion/oidc/{provider}/retour."""

from __future__ import annotations

import logging

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from hygie.security.sessions.deps import Deps
from hygie.security.sessions.oidc import OidcError
from hygie.security.sessions.oidc_signin import OIDC_STATE_TTL, OidcSignIn
from hygie.security.sessions.signin_routes import start_session
from hygie.security.sessions.web import OIDC_COOKIE, clear_cookie, local_path, redirect, set_cookie

log = logging.getLogger(__name__)


def add_oidc_routes(router: APIRouter, deps: Deps, oidc: OidcSignIn) -> None:
    def failed(status: int = 400) -> Response:
        return deps.pages.message(
            status,
            "Connexion impossible",
            "La connexion par le fournisseur d'identité a échoué ou aucun compte professionnel "
            "Hygie n'y est associé. Réessayez ou connectez-vous avec votre identifiant.",
        )

    @router.get("/connexion/oidc/{provider}")
    async def oidc_start(provider: str, next: str = "/") -> Response:
        if not oidc.knows(provider):
            return deps.pages.message(
                404, "Fournisseur inconnu", "Ce fournisseur n'est pas configuré."
            )
        try:
            start = await oidc.begin(provider, local_path(next))
        except (OidcError, KeyError, ValueError) as exc:
            log.warning("OIDC provider %s unusable: %s", provider, exc)
            return failed(502)
        response = redirect(start.url)
        set_cookie(response, OIDC_COOKIE, start.binding, max_age=OIDC_STATE_TTL)
        return response

    @router.get("/connexion/oidc/{provider}/retour")
    async def oidc_return(
        request: Request, provider: str, state: str = "", code: str = "", iss: str | None = None
    ) -> Response:
        binding = request.cookies.get(OIDC_COOKIE, "")
        if not oidc.knows(provider) or not (state and code and binding):
            return failed()
        try:
            result = await oidc.complete(provider, state=state, code=code, binding=binding, iss=iss)
        except OidcError as exc:
            log.warning("OIDC sign-in through %s refused: %s", provider, exc)
            return failed()
        response = await to_thread.run_sync(
            lambda: start_session(
                deps, request, result.account, result.aal, result.next_path, result.auth_time
            )
        )
        clear_cookie(response, OIDC_COOKIE)
        return response
