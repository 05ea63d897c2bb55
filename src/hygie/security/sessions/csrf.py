"""CSRF protection for the pages' forms: synchronizer tokens plus an Origin check.

A signed-in form carries ``HMAC(key, "session:" + session id)``: the server recomputes it,
nothing is stored, and a token is worthless for any other session. The sign-in form has
no session yet; it is bound instead to a random value in a short-lived ``__Host-`` cookie
set with the form (login CSRF). When the browser sends ``Origin``, it must be ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"  # the passkey script sends the token in this header
PRE_SESSION_COOKIE = "__Host-hygie_presession"


class CsrfGuard:
    def __init__(self, key: bytes, *, origin: str) -> None:
        if len(key) < 32:
            raise ValueError("the CSRF key must be at least 32 bytes")
        self._key = key
        self.origin = origin.rstrip("/")

    def __repr__(self) -> str:
        return f"CsrfGuard(origin={self.origin!r})"

    def _mac(self, purpose: str, value: str) -> str:
        digest = hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, session_id: str) -> str:
        return self._mac("session", session_id)

    def pre_session_token(self, nonce: str) -> str:
        return self._mac("pre-session", nonce)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def origin_ok(self, origin: str | None) -> bool:
        """A request without Origin passes (old browsers); one from elsewhere does not."""
        return origin is None or origin.rstrip("/") == self.origin

    def check(self, session_id: str, token: str | None, origin: str | None) -> bool:
        return (
            self.origin_ok(origin)
            and token is not None
            and hmac.compare_digest(token, self.token(session_id))
        )

    def check_pre_session(self, nonce: str | None, token: str | None, origin: str | None) -> bool:
        return (
            self.origin_ok(origin)
            and bool(nonce)
            and token is not None
            and hmac.compare_digest(token, self.pre_session_token(nonce or ""))
        )
