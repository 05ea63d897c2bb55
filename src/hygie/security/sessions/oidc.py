"""A relying party for one external OpenID Connect provider (the Pro Santé Connect role).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``. The ID token is checked
against the provider's JWKS (signature, ``iss``, ``aud``/``azp``, ``exp``, ``iat``,
``nonce``); its ``acr``/``amr`` say whether the provider already did multi-factor
authentication. Every call goes through the injected ``httpx.AsyncClient``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hygie.security.context import Aal

_LEEWAY = 60


class OidcError(Exception):
    """The provider's answer cannot be trusted; the message is for logs, never shown."""


@dataclass(frozen=True)
class OidcProvider:
    """An admin-configured provider; ``name`` is its URL segment in /connexion/oidc/{name}."""

    name: str
    display: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # The claim whose value names the professional account, and the account field it matches.
    link_claim: str = "preferred_username"
    link_field: Literal["rpps", "username"] = "rpps"
    scope: str = "openid profile"
    mfa_acr_values: frozenset[str] = frozenset()  # acr values that assert two factors
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")


@dataclass(frozen=True)
class OidcIdentity:
    subject: str
    link_value: str
    aal: Aal
    auth_time: int | None


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OidcClient:
    def __init__(
        self,
        provider: OidcProvider,
        http: httpx.AsyncClient,
        *,
        redirect_uri: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._http = http
        self._clock = clock
        self._metadata: dict[str, Any] | None = None

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self._http.get(url)
        if response.status_code != 200:
            raise OidcError(f"{url} answered {response.status_code}")
        body = response.json()
        if not isinstance(body, dict):
            raise OidcError(f"{url} did not answer a JSON object")
        return body

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            issuer = self.provider.issuer.rstrip("/")
            found = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            if found.get("issuer") != self.provider.issuer:
                raise OidcError("the discovery document names another issuer")
            self._metadata = found
        return self._metadata

    async def check_response_issuer(self, iss: str | None) -> None:
        """RFC 9207: the authorization response's ``iss`` must be this provider's; a provider
        that announces the parameter must send it (mix-up attacks)."""
        if iss is None:
            if (await self.metadata()).get("authorization_response_iss_parameter_supported"):
                raise OidcError("the authorization response lacks its iss parameter")
        elif iss != self.provider.issuer:
            raise OidcError("the authorization response names another issuer")

    async def authorization_url(self, *, state: str, nonce: str, challenge: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.provider.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": self.provider.scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}?{query}"

    async def finish(self, code: str, *, nonce: str, verifier: str) -> OidcIdentity:
        """Exchange the code and verify the ID token; raises :class:`OidcError`."""
        meta = await self.metadata()
        response = await self._http.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
            auth=(self.provider.client_id, self.provider.client_secret),
        )
        if response.status_code != 200:
            raise OidcError(f"token endpoint answered {response.status_code}")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("no id_token in the token response")
        claims = self._verify(id_token, await self._get_json(meta["jwks_uri"]), nonce)
        link_value = claims.get(self.provider.link_claim)
        if not isinstance(link_value, str) or not link_value:
            raise OidcError(f"the ID token has no {self.provider.link_claim!r} claim")
        auth_time = claims.get("auth_time")
        return OidcIdentity(
            subject=str(claims["sub"]),
            link_value=link_value,
            aal=self._aal(claims),
            auth_time=auth_time if isinstance(auth_time, int) else None,
        )

    def _verify(self, id_token: str, jwks: dict[str, Any], nonce: str) -> dict[str, Any]:
        try:
            keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            token = jwt.decode(id_token, keys, algorithms=list(self.provider.algorithms))
            jwt.JWTClaimsRegistry(
                now=int(self._clock()),
                leeway=_LEEWAY,
                iss={"essential": True, "value": self.provider.issuer},
                aud={"essential": True, "value": self.provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"ID token refused: {exc}") from exc
        claims = token.claims
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.provider.client_id:
            raise OidcError("ID token for several audiences without our azp")
        return claims

    def _aal(self, claims: dict[str, Any]) -> Aal:
        amr = claims.get("amr")
        if isinstance(amr, list) and "mfa" in amr:
            return Aal.TWO
        if claims.get("acr") in self.provider.mfa_acr_values:
            return Aal.TWO
        return Aal.ONE
