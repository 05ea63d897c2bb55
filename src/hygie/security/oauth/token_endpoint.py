"""The token endpoint's three grants: authorization_code, refresh_token, client_credentials.

Public clients must bind their tokens to a DPoP key; the proof at the token endpoint must
carry the server's nonce. A code or a refresh token presented twice means two parties
hold it: the grant it belongs to is revoked, every token of it dies.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hygie.security.accounts.model import Account
from hygie.security.accounts.service import AccountService
from hygie.security.audit import Outcome
from hygie.security.context import PrincipalKind
from hygie.security.oauth.client_auth import ClientAuthenticator, ClientAuthFailed
from hygie.security.oauth.clients import Client, ClientKind
from hygie.security.oauth.dpop import DpopError, DpopVerifier, b64url_sha256
from hygie.security.oauth.errors import OAuthError
from hygie.security.oauth.grants import Grant, GrantStore, RefreshOutcome
from hygie.security.oauth.scope_rules import granted_scopes
from hygie.security.oauth.tokens import TokenMinter
from hygie.security.oauth.trail import Trail, account_actor, client_actor, self_actor
from hygie.security.scopes import format_scopes

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_REFRESHABLE = frozenset({"offline_access", "online_access"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class TokenResponse:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class TokenEndpoint:
    def __init__(
        self,
        *,
        url: str,
        client_auth: ClientAuthenticator,
        dpop: DpopVerifier,
        grants: GrantStore,
        minter: TokenMinter,
        accounts: AccountService,
        trail: Trail,
        refresh_token_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._client_auth = client_auth
        self._dpop = dpop
        self._grants = grants
        self._minter = minter
        self._accounts = accounts
        self._trail = trail
        self._refresh_ttl = refresh_token_ttl
        self._clock = clock

    def authenticate_client(self, authorization: str | None, form: Mapping[str, str]) -> Client:
        try:
            return self._client_auth.authenticate(authorization, form).client
        except ClientAuthFailed as failed:
            self._trail.record(
                "auth.client",
                Outcome.FAILURE,
                client_actor(failed.client_id),
                client_id=failed.client_id,
                reason=failed.description,
            )
            raise

    def handle(
        self, form: Mapping[str, str], *, authorization: str | None, dpop: str | None
    ) -> TokenResponse:
        client = self.authenticate_client(authorization, form)
        jkt = None
        if dpop is not None:
            try:
                jkt = self._dpop.verify(dpop, method="POST", url=self.url, require_nonce=True)
            except DpopError as error:
                nonce = {"DPoP-Nonce": self._dpop.nonce()}
                raise OAuthError(error.error, error.description, headers=nonce) from None
        if client.kind is ClientKind.PUBLIC and jkt is None:
            raise OAuthError("invalid_dpop_proof", "public clients must send a DPoP proof")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = self._authorization_code(client, form, jkt)
        elif grant_type == "refresh_token":
            body = self._refresh(client, form, jkt)
        elif grant_type == "client_credentials":
            body = self._client_credentials(client, form, jkt)
        else:
            raise OAuthError("unsupported_grant_type", f"unsupported grant_type {grant_type!r}")
        headers = dict(NO_STORE)
        if jkt is not None:
            headers["DPoP-Nonce"] = self._dpop.nonce()
        return TokenResponse(body, headers)

    def _active_account(self, account_id: str | None) -> Account:
        account = self._accounts.get(account_id) if account_id else None
        if account is None or account.disabled:
            raise OAuthError("invalid_grant", "the account is disabled")
        return account

    def _authorization_code(
        self, client: Client, form: Mapping[str, str], jkt: str | None
    ) -> dict[str, Any]:
        code = form.get("code", "")
        record, fresh = self._grants.consume_code(code) if code else (None, False)
        if record is None or record.client_id != client.id:
            raise OAuthError("invalid_grant", "unknown authorization code")
        if not fresh:
            if record.grant_id is not None:
                self._grants.revoke_grant(record.grant_id)
            self._trail.record(
                "token.reuse-detected",
                Outcome.DENY,
                client_actor(client.id),
                client_id=client.id,
                patient=record.patient,
                reason="authorization code presented twice: its tokens are revoked",
            )
            raise OAuthError("invalid_grant", "authorization code already used")
        if record.expires_at <= int(self._clock()):
            raise OAuthError("invalid_grant", "authorization code expired")
        if form.get("redirect_uri") != record.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_grant", "code_verifier is required (PKCE)")
        if b64url_sha256(verifier) != record.code_challenge:
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        account = self._active_account(record.account_id)
        words = set(record.scope.split())
        grant, refresh = self._grants.create_grant(
            client_id=client.id,
            account_id=account.id,
            scope=record.scope,
            patient=record.patient,
            jkt=jkt,
            auth_time=record.auth_time,
            code=code,
            refresh_ttl=self._refresh_ttl if words & _REFRESHABLE else None,
        )
        body = self._tokens(grant, refresh, account=account, nonce=record.nonce)
        self._issued("token.issue", grant, account)
        return body

    def _refresh(self, client: Client, form: Mapping[str, str], jkt: str | None) -> dict[str, Any]:
        token = form.get("refresh_token", "")
        known = self._grants.grant_of_refresh(token) if token else None
        if known is None or known.client_id != client.id:
            raise OAuthError("invalid_grant", "unknown refresh token")
        if known.jkt is not None and known.jkt != jkt:
            raise OAuthError("invalid_grant", "the refresh token is bound to another DPoP key")
        scope = form.get("scope")
        if scope is not None and not set(scope.split()) <= set(known.scope.split()):
            raise OAuthError("invalid_scope", "a refresh may only narrow the granted scope")
        outcome, grant, refresh = self._grants.rotate_refresh(token, ttl=self._refresh_ttl)
        if outcome is RefreshOutcome.REUSED and grant is not None:
            self._grants.revoke_grant(grant.id)
            self._trail.record(
                "token.reuse-detected",
                Outcome.DENY,
                client_actor(client.id),
                client_id=client.id,
                patient=grant.patient,
                reason="refresh token presented twice: the whole token family is revoked",
            )
            raise OAuthError("invalid_grant", "refresh token already used: access revoked")
        if outcome is not RefreshOutcome.ROTATED or grant is None:
            raise OAuthError("invalid_grant", f"refresh token {outcome.value}")
        account = self._active_account(grant.account_id)
        body = self._tokens(grant, refresh, account=account, nonce=None, scope=scope)
        self._issued("token.refresh", grant, account)
        return body

    def _client_credentials(
        self, client: Client, form: Mapping[str, str], jkt: str | None
    ) -> dict[str, Any]:
        if not client.kind.acts_for_itself:
            raise OAuthError(
                "unauthorized_client", "client_credentials is for backend and device clients"
            )
        scopes = granted_scopes(form.get("scope", ""), client.scopes)
        grant, _ = self._grants.create_grant(
            client_id=client.id,
            account_id=None,
            scope=format_scopes(scopes),
            patient=None,
            jkt=jkt,
            auth_time=int(self._clock()),
        )
        body = self._tokens(grant, None, account=None, nonce=None)
        self._trail.record("token.issue", Outcome.SUCCESS, self_actor(client), client_id=client.id)
        return body

    def _tokens(
        self,
        grant: Grant,
        refresh: str | None,
        *,
        account: Account | None,
        nonce: str | None,
        scope: str | None = None,
    ) -> dict[str, Any]:
        access, claims = self._minter.access_token(grant, scope=scope)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "DPoP" if grant.jkt else "Bearer",
            "expires_in": self._minter.access_token_ttl,
            "scope": claims.scope,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        if grant.patient:
            body["patient"] = grant.patient.removeprefix("Patient/")
        if account is not None and "openid" in claims.scope.split():
            body["id_token"] = self._minter.id_token(
                account=account,
                client_id=grant.client_id,
                scope=claims.scope,
                auth_time=grant.auth_time,
                nonce=nonce,
                access_token=access,
            )
        return body

    def _issued(self, action: str, grant: Grant, account: Account) -> None:
        """A user's tokens: on their record (a patient's access history) too."""
        patient = grant.patient
        if patient is None and account.kind is PrincipalKind.PATIENT:
            patient = account.fhir_ref
        self._trail.record(
            action,
            Outcome.SUCCESS,
            account_actor(account),
            client_id=grant.client_id,
            patient=patient,
        )
