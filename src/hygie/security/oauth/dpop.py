"""DPoP proofs (RFC 9449): verification, server nonces, and the URL comparison they need.

A proof is a JWT of type ``dpop+jwt`` signed by the key in its own ``jwk`` header. It is
bound to one request (``htm``, ``htu``), recent (``iat``), used once (``jti``), and at a
resource server to the access token (``ath``). Nonces are stateless: a time period and its
HMAC, accepted during that period and the next.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from hygie.security.oauth.jwt_checks import (
    PublicKey,
    int_claim,
    key_fits,
    str_claim,
    unverified_header,
    verified_claims,
)
from hygie.security.oauth.replay import ReplayStore

ALGORITHMS = ("ES256", "ES384", "RS256", "RS384", "PS256")
PROOF_WINDOW = 60  # seconds a proof's iat may differ from the server's clock
NONCE_PERIOD = 300
_DEFAULT_PORTS = {"https": 443, "http": 80}


class DpopError(Exception):
    """``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def b64url_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def normalize_url(url: str) -> str:
    """Scheme and host lower-cased, default port dropped, no query or fragment (RFC 9449 4.3)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def _import_jwk(jwk: object) -> PublicKey | None:
    if not isinstance(jwk, dict) or any(name in jwk for name in ("d", "p", "q", "k")):
        return None  # a private or symmetric key must never travel in a proof
    try:
        if jwk.get("kty") == "EC":
            return ECKey.import_key(jwk)
        if jwk.get("kty") == "RSA":
            return RSAKey.import_key(jwk)
    except (JoseError, ValueError, TypeError):
        return None
    return None


class DpopVerifier:
    def __init__(
        self, replay: ReplayStore, nonce_secret: bytes, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._replay = replay
        self._secret = nonce_secret
        self._clock = clock

    def nonce(self) -> str:
        return self._nonce_for(int(self._clock()) // NONCE_PERIOD)

    def _nonce_for(self, period: int) -> str:
        mac = hmac.new(self._secret, str(period).encode(), hashlib.sha256).digest()[:16]
        return f"{period}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    def _nonce_valid(self, nonce: str) -> bool:
        current = int(self._clock()) // NONCE_PERIOD
        return any(
            hmac.compare_digest(nonce, self._nonce_for(period)) for period in (current, current - 1)
        )

    def verify(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        require_nonce: bool = False,
    ) -> str:
        """Check a proof for this request; returns the thumbprint (jkt) of its key."""
        if not proof or "," in proof:
            raise DpopError("invalid_dpop_proof", "exactly one DPoP proof is required")
        header = unverified_header(proof)
        if header is None or header.get("typ") != "dpop+jwt":
            raise DpopError("invalid_dpop_proof", "the DPoP proof must be a dpop+jwt JWT")
        alg = header.get("alg")
        key = _import_jwk(header.get("jwk"))
        if alg not in ALGORITHMS or key is None or not key_fits(key, str(alg)):
            raise DpopError("invalid_dpop_proof", "unsupported DPoP algorithm or key")
        claims = verified_claims(proof, key, str(alg))
        if claims is None:
            raise DpopError("invalid_dpop_proof", "the DPoP proof signature is invalid")
        jti, iat = str_claim(claims, "jti"), int_claim(claims, "iat")
        if jti is None or iat is None or len(jti) > 255:
            raise DpopError("invalid_dpop_proof", "the DPoP proof needs jti and iat")
        if claims.get("htm") != method.upper():
            raise DpopError("invalid_dpop_proof", "the DPoP proof is for another HTTP method")
        htu = claims.get("htu")
        if not isinstance(htu, str) or normalize_url(htu) != normalize_url(url):
            raise DpopError("invalid_dpop_proof", "the DPoP proof is for another URL")
        now = int(self._clock())
        if abs(now - iat) > PROOF_WINDOW:
            raise DpopError("invalid_dpop_proof", "the DPoP proof is too old or in the future")
        if access_token is not None and claims.get("ath") != b64url_sha256(access_token):
            raise DpopError("invalid_dpop_proof", "the DPoP proof is not bound to this token")
        if require_nonce:
            nonce = claims.get("nonce")
            if not isinstance(nonce, str) or not self._nonce_valid(nonce):
                raise DpopError("use_dpop_nonce", "use the server's DPoP nonce")
        jkt = key.thumbprint()
        if not self._replay.first_use("dpop", jkt, jti, keep_until=max(now, iat) + PROOF_WINDOW):
            raise DpopError("invalid_dpop_proof", "this DPoP proof was already used")
        return jkt
