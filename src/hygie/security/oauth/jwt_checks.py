"""Small JWT helpers for tokens signed by others (DPoP proofs, client assertions).

joserfc verifies signatures; the claims are checked by the callers against an injectable
clock, so tests can move time.
"""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

PublicKey = ECKey | RSAKey


def unverified_header(token: str) -> dict[str, Any] | None:
    """The protected header of a compact JWS, before any check; None when malformed."""
    try:
        return dict(jws.extract_compact(token.encode()).headers())
    except (JoseError, ValueError, TypeError):
        return None


def verified_claims(token: str, key: PublicKey, alg: str) -> dict[str, Any] | None:
    """The claims of ``token`` if ``key`` signed it with ``alg``; None otherwise."""
    try:
        payload = jws.deserialize_compact(token, key, algorithms=[alg]).payload
        claims = json.loads(payload)
    except (JoseError, ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def key_fits(key: PublicKey, alg: str) -> bool:
    """Whether ``alg`` is meant for ``key`` (ES384 needs P-384, RS*/PS* need RSA)."""
    if alg.startswith(("RS", "PS")):
        return isinstance(key, RSAKey)
    curve = {"ES256": "P-256", "ES384": "P-384"}.get(alg)
    return isinstance(key, ECKey) and curve is not None and key.curve_name == curve


def int_claim(claims: dict[str, Any], name: str) -> int | None:
    value = claims.get(name)
    return value if type(value) is int else None


def str_claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS before its signature is checked: only to find the key."""
    try:
        claims = json.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}
