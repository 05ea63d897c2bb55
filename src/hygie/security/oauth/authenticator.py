"""Authenticating API calls: the access token (Bearer or DPoP) to a :class:`RequestContext`.

Checks, in order: signature and claims (issuer, audience = this FHIR base, expiry), then
revocation (the token, its grant, its client, the account), then for a DPoP-bound token
the proof for this very request. Revocation is read before the proof is checked because
checking a proof writes its jti to the replay store.

A client sends the same token for minutes: its verified claims are kept until it expires,
so the signature (an ECDSA verification, most of the cost) is checked once per token.
The revocation state (token, grant, client with a device's posture, account: one query)
is kept at most ``STATE_TTL`` seconds, and dropped at once when a revocation, a posture or
an account change is made in this process (:mod:`hygie.security.revocations`); one made by
another process (the CLI, another worker) takes effect within that bound. The DPoP proof
is checked on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hygie.security import revocations
from hygie.security.context import Aal, Principal, PrincipalKind, RequestContext
from hygie.security.oauth.dpop import ALGORITHMS, DpopError, DpopVerifier
from hygie.security.oauth.errors import AuthenticationFailed
from hygie.security.oauth.grants import GrantStore, TokenState
from hygie.security.oauth.tokens import AccessClaims, TokenMinter
from hygie.security.request_ids import new_request_id
from hygie.security.scopes import InvalidScope, Scope, parse_scopes

DPOP_ALGS = " ".join(ALGORITHMS)
VERIFIED_CACHE_SIZE = 4096  # tokens; a full cache is emptied (tokens live minutes)
STATE_TTL = 1.0  # seconds a token's revocation state is reused (the documented bound)
STATE_CACHE_SIZE = 4096

# The claims of a token whose signature and claims were checked, with its parsed scopes
# (None: the scope does not parse, refused after the revocation check as before).
_Verified = tuple[AccessClaims, frozenset[Scope] | None]
# A token's state, with the monotonic time it was read and the revocation notices before it.
_Known = tuple[TokenState | None, float, int]


def _failed(scheme: str, error: str, description: str) -> AuthenticationFailed:
    detail = f'error="{error}", error_description="{description}"'
    if scheme == "dpop":
        challenge = f'DPoP {detail}, algs="{DPOP_ALGS}", Bearer realm="hygie"'
    else:
        challenge = f'Bearer realm="hygie", {detail}, DPoP algs="{DPOP_ALGS}"'
    return AuthenticationFailed(description, status=401, www_authenticate=challenge)


class TokenAuthenticator:
    def __init__(
        self,
        *,
        minter: TokenMinter,
        grants: GrantStore,
        dpop: DpopVerifier,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._minter = minter
        self._grants = grants
        self._dpop = dpop
        self._clock = clock  # the minter's clock: a cached token expires when it says
        self._verified: dict[str, _Verified] = {}
        self._states: dict[tuple[str, str], _Known] = {}

    def authenticate(
        self,
        *,
        method: str,
        url: str,
        authorization: str | None,
        dpop: str | None,
        network_zone: str,
        source_ip: str,
    ) -> RequestContext | None:
        """The caller's context; None without credentials; AuthenticationFailed if refused."""
        if authorization is None:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if scheme not in ("bearer", "dpop") or not token:
            raise _failed("bearer", "invalid_token", "use the Bearer or DPoP scheme")
        verified = self._verified_claims(token)
        if verified is None:
            raise _failed(scheme, "invalid_token", "the access token is invalid or expired")
        claims, scopes = verified
        if (claims.jkt is not None) != (scheme == "dpop"):
            raise _failed(
                scheme, "invalid_token", "DPoP-bound tokens need the DPoP scheme, others Bearer"
            )
        principal, aal, posture = self._principal(scheme, claims)
        if claims.jkt is not None:
            self._check_proof(token, claims.jkt, dpop, method=method, url=url)
        if scopes is None:
            raise _failed(scheme, "invalid_token", "the token's scope is invalid")
        return RequestContext(
            principal=principal,
            aal=aal,
            auth_time=claims.auth_time,
            network_zone=network_zone,
            source_ip=source_ip,
            client_id=claims.client_id,
            scopes=scopes,
            launch_patient=claims.patient,
            device_posture=posture,
            token_id=claims.jti,
            request_id=new_request_id(),
        )

    def _verified_claims(self, token: str) -> _Verified | None:
        """The token's checked claims, from the cache while it has not expired."""
        now = int(self._clock())
        known = self._verified.get(token)
        if known is not None:
            if known[0].expires_at > now:
                return known
            self._verified.pop(token, None)
            return None
        claims = self._minter.read_access_token(token)
        if claims is None:
            return None
        try:
            scopes: frozenset[Scope] | None = parse_scopes(claims.scope)
        except InvalidScope:
            scopes = None
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (claims, scopes)
        return claims, scopes

    def _principal(self, scheme: str, claims: AccessClaims) -> tuple[Principal, Aal, str | None]:
        """Who the token speaks for, how strongly, and a device's posture."""
        state = self._token_state(claims)
        if state is None or state.revoked:
            raise _failed(scheme, "invalid_token", "the access token was revoked")
        if state.device_ref is not None:
            # A device acting for itself: the FHIR Device it is bound to, with its posture.
            device = Principal(
                PrincipalKind.DEVICE, claims.client_id, state.client_name, fhir_ref=state.device_ref
            )
            return device, Aal.ONE, state.posture
        if state.account_id is None:
            # A backend service acting for itself (client_credentials).
            client = Principal(PrincipalKind.CLIENT, claims.client_id, state.client_name)
            return client, Aal.ONE, None
        if state.account_disabled or state.principal is None:
            raise _failed(scheme, "invalid_token", "the account is disabled")
        # Authorization codes are only issued to users signed in at AAL2.
        return state.principal, Aal.TWO, None

    def _token_state(self, claims: AccessClaims) -> TokenState | None:
        """The token's revocation state, read again after ``STATE_TTL`` seconds or after any
        revocation notice in this process."""
        key = (claims.grant_id, claims.jti)
        now, notices = time.monotonic(), revocations.count()
        known = self._states.get(key)
        if known is not None and now - known[1] < STATE_TTL and known[2] == notices:
            return known[0]
        # The notice count is taken before the read: a revocation committed meanwhile bumps
        # it, so this answer is not reused past it.
        state = self._grants.token_state(claims.grant_id, claims.jti)
        if len(self._states) >= STATE_CACHE_SIZE:
            self._states.clear()
        self._states[key] = (state, now, notices)
        return state

    def _check_proof(
        self, token: str, jkt: str, proof: str | None, *, method: str, url: str
    ) -> None:
        if proof is None:
            raise _failed("dpop", "invalid_dpop_proof", "a DPoP proof is required")
        try:
            proof_jkt = self._dpop.verify(proof, method=method, url=url, access_token=token)
        except DpopError as error:
            raise _failed("dpop", error.error, error.description) from None
        if proof_jkt != jkt:
            raise _failed("dpop", "invalid_token", "the token is bound to another DPoP key")
