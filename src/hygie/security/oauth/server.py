"""The authorization server: OAuth 2.1, OpenID Connect and SMART App Launch 2 in one object.

It wires the pieces (clients, signing key, codes and grants, DPoP, client authentication)
and answers the endpoints in plain Python; :func:`hygie.security.oauth.api.oauth_router`
puts them on HTTP. Endpoint URLs derive from ``issuer`` (the public base URL of Hygie).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request

from hygie.db.engine import Database
from hygie.security.accounts.service import AccountService
from hygie.security.audit import AuditLog, Outcome
from hygie.security.context import RequestContext
from hygie.security.oauth.authenticator import TokenAuthenticator
from hygie.security.oauth.authorize import Authorizer
from hygie.security.oauth.client_auth import ClientAuthenticator
from hygie.security.oauth.clients import Client, ClientKind, ClientRegistry
from hygie.security.oauth.dpop import DpopVerifier
from hygie.security.oauth.errors import OAuthError
from hygie.security.oauth.grants import GrantStore
from hygie.security.oauth.keys import SigningKey
from hygie.security.oauth.replay import ReplayStore
from hygie.security.oauth.token_endpoint import TokenEndpoint, TokenResponse
from hygie.security.oauth.tokens import TokenMinter
from hygie.security.oauth.trail import Trail, client_actor

AUTHORIZE_PATH = "/oauth/authorize"
CONSENT_PATH = "/oauth/authorize/consent"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path)
INTROSPECT_PATH = "/oauth/introspect"
REVOKE_PATH = "/oauth/revoke"
JWKS_PATH = "/oauth/jwks"
USERINFO_PATH = "/oauth/userinfo"


class AuthorizationServer:
    def __init__(
        self,
        db: Database,
        *,
        issuer: str,
        fhir_base: str,
        signing_key_file: Path,
        page_context: Callable[[Request], RequestContext | None],
        login_url: str,
        access_token_ttl: int = 300,
        refresh_token_ttl: int = 14 * 86400,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
        accounts: AccountService | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.fhir_base = fhir_base.rstrip("/")
        self.page_context = page_context
        self.clients = ClientRegistry(db, clock=clock)
        self.key = SigningKey.load_or_create(signing_key_file)
        self.accounts = accounts or AccountService(db, clock=clock, audit=audit)
        self._clock = clock
        self._trail = Trail(audit, clock=clock)
        self._grants = GrantStore(db, clock=clock)
        replay = ReplayStore(db, clock=clock)
        self.dpop = DpopVerifier(replay, self.key.nonce_secret, clock=clock)
        self.minter = TokenMinter(
            self.key,
            issuer=self.issuer,
            fhir_base=self.fhir_base,
            access_token_ttl=access_token_ttl,
            clock=clock,
        )
        self.authorizer = Authorizer(
            db,
            self.clients,
            self._grants,
            issuer=self.issuer,
            fhir_base=self.fhir_base,
            login_url=login_url,
            authorize_path=AUTHORIZE_PATH,
            consent_path=CONSENT_PATH,
            clock=clock,
        )
        self._token = TokenEndpoint(
            url=self.url(TOKEN_PATH),
            client_auth=ClientAuthenticator(
                self.clients, replay, token_endpoint=self.url(TOKEN_PATH), clock=clock
            ),
            dpop=self.dpop,
            grants=self._grants,
            minter=self.minter,
            accounts=self.accounts,
            trail=self._trail,
            refresh_token_ttl=refresh_token_ttl,
            clock=clock,
        )
        self.authenticator = TokenAuthenticator(
            minter=self.minter,
            grants=self._grants,
            dpop=self.dpop,
            clock=clock,
        )

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    def token(
        self, form: Mapping[str, str], *, authorization: str | None, dpop: str | None
    ) -> TokenResponse:
        return self._token.handle(form, authorization=authorization, dpop=dpop)

    def _confidential_client(self, authorization: str | None, form: Mapping[str, str]) -> Client:
        client = self._token.authenticate_client(authorization, form)
        if client.kind is ClientKind.PUBLIC:
            raise OAuthError(
                "invalid_client", "introspection needs an authenticated client", status=401
            )
        if client.kind is ClientKind.DEVICE:  # a device has no use for others' tokens
            raise OAuthError("unauthorized_client", "devices may not introspect tokens")
        return client

    def introspect(self, form: Mapping[str, str], *, authorization: str | None) -> dict[str, Any]:
        """RFC 7662 for access tokens; anything else, expired or revoked is ``active: false``."""
        self._confidential_client(authorization, form)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "the token parameter is required")
        claims = self.minter.read_access_token(token)
        state = self._grants.token_state(claims.grant_id, claims.jti) if claims else None
        if claims is None or state is None or state.revoked:
            return {"active": False}
        if state.account_id is not None:
            account = self.accounts.get(state.account_id)
            if account is None or account.disabled:
                return {"active": False}
        answer: dict[str, Any] = {
            "active": True,
            "iss": self.issuer,
            "aud": self.fhir_base,
            "sub": claims.sub,
            "client_id": claims.client_id,
            "scope": claims.scope,
            "exp": claims.expires_at,
            "iat": claims.issued_at,
            "jti": claims.jti,
            "token_type": "DPoP" if claims.jkt else "Bearer",
        }
        if claims.patient:
            answer["patient"] = claims.patient.removeprefix("Patient/")
        if claims.jkt:
            answer["cnf"] = {"jkt": claims.jkt}
        return answer

    def revoke(self, form: Mapping[str, str], *, authorization: str | None) -> None:
        """RFC 7009: revoke an access token (by jti) or a refresh token (its whole grant).

        Unknown tokens and tokens of other clients are ignored: the answer is the same 200,
        so the endpoint tells nothing about tokens the caller does not own.
        """
        client = self._token.authenticate_client(authorization, form)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "the token parameter is required")
        claims = self.minter.read_access_token(token)
        if claims is not None and claims.client_id == client.id:
            self._grants.revoke_token(claims.jti, claims.expires_at)
        else:
            grant = self._grants.grant_of_refresh(token)
            if grant is None or grant.client_id != client.id:
                return
            self._grants.revoke_grant(grant.id)
        self._trail.record(
            "token.revoke", Outcome.SUCCESS, client_actor(client.id), client_id=client.id
        )
