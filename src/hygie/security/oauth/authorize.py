"""The authorization endpoint: validate the request, sign-in check, consent, code.

Until the client and its redirect URI are known to be genuine, an error is shown on a page
and never redirected (RFC 6749 4.1.2.1): redirecting would make Hygie an open redirector.
Afterwards errors go back to the app with ``error``, ``state`` and ``iss`` (RFC 9207).
The consent form is protected by a one-time token kept server-side and bound to the
account that was shown the form.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import delete, insert, select

from hygie.db.engine import Database
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.oauth import pages
from hygie.security.oauth.clients import Client, ClientRegistry
from hygie.security.oauth.errors import OAuthError
from hygie.security.oauth.grants import GrantStore, digest
from hygie.security.oauth.scope_rules import granted_scopes
from hygie.security.oauth.tables import security_oauth_form
from hygie.security.scopes import Scope, format_scopes

CODE_TTL = 60
FORM_TTL = 600
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256 digest
_MAX_PARAM = 1024
_UNIQUE_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "aud",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str


@dataclass(frozen=True, slots=True)
class Page:
    html: str
    status: int = 200


def with_params(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _wants_data(scopes: frozenset[Scope]) -> bool:
    return any(scope.clinical or scope.raw.startswith("launch") for scope in scopes)


def _needs_patient(scopes: frozenset[Scope]) -> bool:
    return any(scope.raw == "launch/patient" or scope.context == "patient" for scope in scopes)


class Authorizer:
    def __init__(
        self,
        db: Database,
        registry: ClientRegistry,
        grants: GrantStore,
        *,
        issuer: str,
        fhir_base: str,
        login_url: str,
        authorize_path: str,
        consent_path: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._registry = registry
        self._grants = grants
        self._issuer = issuer
        self._fhir_base = fhir_base
        self._login_url = login_url
        self._authorize_path = authorize_path
        self._consent_path = consent_path
        self._clock = clock

    def start(
        self, items: Sequence[tuple[str, str]], ctx: RequestContext | None
    ) -> Redirect | Page:
        params = dict(items)
        names = [name for name, _ in items]
        repeated = sorted({name for name in names if names.count(name) > 1} & set(_UNIQUE_PARAMS))
        client = self._registry.get(params.get("client_id", ""))
        if client is None or client.revoked or client.kind.acts_for_itself:
            return Page(pages.error_page("Application inconnue ou révoquée."), 400)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris or "redirect_uri" in repeated:
            return Page(
                pages.error_page("Adresse de retour non enregistrée pour l'application."), 400
            )
        state = params.get("state")
        try:
            if repeated:
                raise OAuthError("invalid_request", f"repeated parameters: {', '.join(repeated)}")
            scopes = self._check(params, client)
        except OAuthError as error:
            return self._error_redirect(redirect_uri, state, error.error, error.description)
        if ctx is None or ctx.aal < Aal.TWO:
            authorize_url = f"{self._authorize_path}?{urlencode(items)}"
            return Redirect(with_params(self._login_url, {"next": authorize_url}))
        patient = None
        if _needs_patient(scopes):
            if ctx.principal.kind is not PrincipalKind.PATIENT or not ctx.principal.fhir_ref:
                return self._error_redirect(
                    redirect_uri,
                    state,
                    "invalid_scope",
                    "patient context is only available to a patient signing in",
                )
            patient = ctx.principal.fhir_ref
        request = {
            "client_id": client.id,
            "redirect_uri": redirect_uri,
            "scope": format_scopes(scopes),
            "state": state,
            "nonce": params.get("nonce"),
            "code_challenge": params["code_challenge"],
            "patient": patient,
            "auth_time": ctx.auth_time,
        }
        form_token = self._store_form(ctx.principal.id, request)
        html = pages.consent_page(
            client_name=client.name,
            user_display=ctx.principal.display or ctx.principal.id,
            scopes=scopes,
            form_token=form_token,
            action=self._consent_path,
        )
        return Page(html)

    def _check(self, params: dict[str, str], client: Client) -> frozenset[Scope]:
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if "launch" in params:
            raise OAuthError("invalid_request", "EHR launch is not supported: standalone only")
        challenge = params.get("code_challenge")
        if not challenge:
            raise OAuthError("invalid_request", "PKCE is required: send code_challenge (S256)")
        if params.get("code_challenge_method") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256")
        for name in ("state", "nonce"):
            if len(params.get(name, "")) > (255 if name == "nonce" else _MAX_PARAM):
                raise OAuthError("invalid_request", f"{name} is too long")
        scopes = granted_scopes(params.get("scope", ""), client.scopes)
        # SMART asks an app that wants FHIR data to name the server (aud); a plain OpenID
        # Connect sign-in (openid, fhirUser, profile) has no such parameter in OIDC Core.
        aud = params.get("aud")
        if (aud is not None or _wants_data(scopes)) and (aud or "").rstrip("/") != self._fhir_base:
            raise OAuthError("invalid_request", f"aud must be this FHIR server: {self._fhir_base}")
        return scopes

    def _error_redirect(
        self, redirect_uri: str, state: str | None, error: str, description: str
    ) -> Redirect:
        return Redirect(
            with_params(
                redirect_uri,
                {
                    "error": error,
                    "error_description": description,
                    "state": state,
                    "iss": self._issuer,
                },
            )
        )

    def _store_form(self, account_id: str, request: Mapping[str, object]) -> str:
        token = secrets.token_urlsafe(32)
        now = int(self._clock())
        with self._db.write() as conn:
            conn.execute(delete(security_oauth_form).where(security_oauth_form.c.expires_at < now))
            conn.execute(
                insert(security_oauth_form).values(
                    token_hash=digest(token),
                    account_id=account_id,
                    request=json.dumps(request),
                    expires_at=now + FORM_TTL,
                )
            )
        return token

    def _take_form(self, token: str) -> tuple[str, dict[str, str | None]] | None:
        table = security_oauth_form
        with self._db.write() as conn:
            row = conn.execute(select(table).where(table.c.token_hash == digest(token))).first()
            if row is None:
                return None
            conn.execute(delete(table).where(table.c.token_hash == row.token_hash))
        if row.expires_at <= int(self._clock()):
            return None
        return row.account_id, json.loads(row.request)

    def decide(self, form: dict[str, str], ctx: RequestContext | None) -> Redirect | Page:
        """The consent form's answer: a code for the app, or ``access_denied``."""
        taken = self._take_form(form.get("form_token", ""))
        expired = "Ce formulaire a expiré ou a déjà été utilisé : recommencez depuis l'application."
        if taken is None:
            return Page(pages.error_page(expired), 400)
        account_id, request = taken
        if ctx is None or ctx.aal < Aal.TWO or ctx.principal.id != account_id:
            return Page(pages.error_page(expired), 400)
        client = self._registry.get(str(request["client_id"]))
        if client is None or client.revoked:
            return Page(pages.error_page("Application inconnue ou révoquée."), 400)
        redirect_uri, state = str(request["redirect_uri"]), request["state"]
        if form.get("decision") != "approve":
            return self._error_redirect(
                redirect_uri, state, "access_denied", "the user refused the authorization"
            )
        code = self._grants.store_code(
            client_id=client.id,
            account_id=account_id,
            redirect_uri=redirect_uri,
            scope=str(request["scope"]),
            code_challenge=str(request["code_challenge"]),
            nonce=request["nonce"],
            patient=request["patient"],
            auth_time=int(str(request["auth_time"])),
            ttl=CODE_TTL,
        )
        return Redirect(
            with_params(redirect_uri, {"code": code, "state": state, "iss": self._issuer})
        )
