"""Minting and reading the server's JWTs: access tokens (RFC 9068) and OpenID id_tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hygie.security.accounts.model import Account
from hygie.security.oauth.grants import Grant
from hygie.security.oauth.jwt_checks import int_claim, str_claim
from hygie.security.oauth.keys import SigningKey

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 typ)
CLOCK_SKEW = 30


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The checked claims of one of our access tokens."""

    jti: str
    sub: str
    client_id: str
    grant_id: str
    scope: str
    patient: str | None
    jkt: str | None
    auth_time: int
    issued_at: int
    expires_at: int


def _at_hash(access_token: str) -> str:
    """OpenID Connect Core 3.1.3.6: left half of the SHA-256 of the token (ES256)."""
    half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


class TokenMinter:
    def __init__(
        self,
        key: SigningKey,
        *,
        issuer: str,
        fhir_base: str,
        access_token_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._issuer = issuer
        self._fhir_base = fhir_base
        self.access_token_ttl = access_token_ttl
        self._clock = clock

    def access_token(self, grant: Grant, *, scope: str | None = None) -> tuple[str, AccessClaims]:
        now = int(self._clock())
        claims = AccessClaims(
            jti=secrets.token_hex(16),
            sub=grant.account_id or grant.client_id,
            client_id=grant.client_id,
            grant_id=grant.id,
            scope=scope or grant.scope,
            patient=grant.patient,
            jkt=grant.jkt,
            auth_time=grant.auth_time,
            issued_at=now,
            expires_at=now + self.access_token_ttl,
        )
        body: dict[str, Any] = {
            "iss": self._issuer,
            "sub": claims.sub,
            "aud": self._fhir_base,
            "iat": now,
            "exp": claims.expires_at,
            "jti": claims.jti,
            "client_id": claims.client_id,
            "scope": claims.scope,
            "grant": claims.grant_id,
            "auth_time": claims.auth_time,
        }
        if claims.patient:
            body["patient"] = claims.patient.removeprefix("Patient/")
        if claims.jkt:
            body["cnf"] = {"jkt": claims.jkt}
        return self._key.sign(body, typ=ACCESS_TOKEN_TYPE), claims

    def read_access_token(self, token: str) -> AccessClaims | None:
        """The claims of an access token we signed, still valid for this FHIR base; else None."""
        verified = self._key.verify(token)
        if verified is None:
            return None
        header, claims = verified
        if header.get("typ") != ACCESS_TOKEN_TYPE or claims.get("iss") != self._issuer:
            return None
        if claims.get("aud") != self._fhir_base:
            return None
        now = int(self._clock())
        exp, iat = int_claim(claims, "exp"), int_claim(claims, "iat")
        if exp is None or iat is None or exp <= now or iat > now + CLOCK_SKEW:
            return None
        jti, sub = str_claim(claims, "jti"), str_claim(claims, "sub")
        client_id, grant_id = str_claim(claims, "client_id"), str_claim(claims, "grant")
        scope = claims.get("scope")
        if None in (jti, sub, client_id, grant_id) or not isinstance(scope, str):
            return None
        cnf = claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        patient = str_claim(claims, "patient")
        return AccessClaims(
            jti=str(jti),
            sub=str(sub),
            client_id=str(client_id),
            grant_id=str(grant_id),
            scope=scope,
            patient=f"Patient/{patient}" if patient else None,
            jkt=jkt if isinstance(jkt, str) else None,
            auth_time=int_claim(claims, "auth_time") or iat,
            issued_at=iat,
            expires_at=exp,
        )

    def id_token(
        self,
        *,
        account: Account,
        client_id: str,
        scope: str,
        auth_time: int,
        nonce: str | None,
        access_token: str,
    ) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": account.id,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "exp": now + self.access_token_ttl,
            "auth_time": auth_time,
            "at_hash": _at_hash(access_token),
            # authorize only proceeds at AAL2; "aal2" is our own acr, so also say it with the
            # registered method value (RFC 8176) that any relying party understands.
            "acr": "aal2",
            "amr": ["mfa"],
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if account.fhir_ref is not None:
            claims["fhirUser"] = f"{self._fhir_base}/{account.fhir_ref}"
        if "profile" in scope.split():
            claims.update(profile_claims(account))
        return self._key.sign(claims, typ="JWT")


def profile_claims(account: Account) -> dict[str, str]:
    """The ``profile`` scope's claims (OpenID Connect Core 5.4), plus a professional's RPPS
    number: a private claim by which relying parties in the Pro Santé Connect role link the
    identity to their own account of that professional."""
    claims = {"name": account.display, "preferred_username": account.username}
    if account.rpps:
        claims["rpps"] = account.rpps
    return claims
