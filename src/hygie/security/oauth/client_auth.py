"""Client authentication at the token, introspection and revocation endpoints.

Methods: ``client_secret_basic``, ``client_secret_post``, ``private_key_jwt`` (RFC 7523,
SMART Backend Services: RS384 or ES384, ``iss`` = ``sub`` = client id, ``aud`` = the token
endpoint, at most five minutes of validity, ``jti`` never seen before) and ``none`` for
public clients, which prove possession with PKCE and DPoP instead. Devices use
``private_key_jwt`` only.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from hygie.security.oauth.clients import Client, ClientKind, ClientRegistry
from hygie.security.oauth.errors import OAuthError
from hygie.security.oauth.jwt_checks import (
    int_claim,
    key_fits,
    str_claim,
    unverified_claims,
    unverified_header,
    verified_claims,
)
from hygie.security.oauth.replay import ReplayStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS384", "ES384")
MAX_ASSERTION_LIFETIME = 300
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


class ClientAuthFailed(OAuthError):
    """``invalid_client`` (401); ``client_id`` is what the request claimed, for the audit."""

    def __init__(self, description: str, client_id: str | None, *, basic: bool = False) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="hygie"'} if basic else None
        super().__init__("invalid_client", description, status=401, headers=headers)
        self.client_id = client_id


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client: Client
    method: str  # one of AUTH_METHODS


def _basic(authorization: str) -> tuple[str, str] | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


class ClientAuthenticator:
    def __init__(
        self,
        registry: ClientRegistry,
        replay: ReplayStore,
        *,
        token_endpoint: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._replay = replay
        self._token_endpoint = token_endpoint
        self._clock = clock

    def authenticate(
        self, authorization: str | None, form: Mapping[str, str]
    ) -> AuthenticatedClient:
        basic = _basic(authorization) if authorization else None
        assertion = form.get("client_assertion")
        secret = form.get("client_secret")
        given = [basic is not None, assertion is not None, secret is not None]
        if sum(given) > 1:
            raise OAuthError("invalid_request", "use exactly one client authentication method")
        if assertion is not None:
            return self._by_assertion(assertion, form)
        if basic is not None:
            client_id, secret = basic
            return self._by_secret(client_id, secret, form, "client_secret_basic")
        claimed = form.get("client_id", "")
        if secret is not None:
            return self._by_secret(claimed, secret, form, "client_secret_post")
        client = self._active(claimed, basic=False)
        if client.kind is not ClientKind.PUBLIC:
            raise ClientAuthFailed("this client must authenticate", claimed)
        return AuthenticatedClient(client, "none")

    def _active(self, client_id: str, *, basic: bool) -> Client:
        client = self._registry.get(client_id) if client_id else None
        if client is None or client.revoked:
            raise ClientAuthFailed("unknown or revoked client", client_id or None, basic=basic)
        return client

    def _by_secret(
        self, client_id: str, secret: str, form: Mapping[str, str], method: str
    ) -> AuthenticatedClient:
        basic = method == "client_secret_basic"
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the authenticated client")
        client = self._active(client_id, basic=basic)
        if client.kind is ClientKind.DEVICE:
            raise ClientAuthFailed("a device authenticates with private_key_jwt only", client_id)
        if not self._registry.verify_secret(client.id, secret):
            raise ClientAuthFailed("wrong client secret", client_id, basic=basic)
        return AuthenticatedClient(client, method)

    def _by_assertion(self, assertion: str, form: Mapping[str, str]) -> AuthenticatedClient:
        unchecked = unverified_claims(assertion)
        claimed = form.get("client_id") or str_claim(unchecked, "sub") or ""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise ClientAuthFailed(f"client_assertion_type must be {ASSERTION_TYPE}", claimed)
        client = self._active(claimed, basic=False)
        header = unverified_header(assertion) or {}
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS:
            raise ClientAuthFailed("the assertion must be signed with RS384 or ES384", claimed)
        kid = header.get("kid")
        candidates = [
            key
            for key in client.keys
            if key_fits(key, str(alg))
            and (kid is None or key.thumbprint() == kid or key.kid == kid)
        ]
        claims = next(
            (
                found
                for key in candidates
                if (found := verified_claims(assertion, key, str(alg))) is not None
            ),
            None,
        )
        if claims is None:
            raise ClientAuthFailed("the assertion is not signed by a registered key", claimed)
        self._check_assertion_claims(claims, client.id)
        return AuthenticatedClient(client, "private_key_jwt")

    def _check_assertion_claims(self, claims: dict[str, Any], client_id: str) -> None:
        now = int(self._clock())
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise ClientAuthFailed("the assertion's iss and sub must be the client id", client_id)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._token_endpoint not in audiences:
            raise ClientAuthFailed("the assertion's aud must be the token endpoint", client_id)
        exp = int_claim(claims, "exp")
        if exp is None or exp <= now or exp > now + MAX_ASSERTION_LIFETIME:
            raise ClientAuthFailed(
                "the assertion must expire within the next five minutes", client_id
            )
        jti = str_claim(claims, "jti")
        if jti is None or len(jti) > 255:
            raise ClientAuthFailed("the assertion needs a jti", client_id)
        if not self._replay.first_use("assertion", client_id, jti, keep_until=exp):
            raise ClientAuthFailed("this assertion jti was already used", client_id)
