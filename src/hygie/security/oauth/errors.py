"""Errors of the authorization server and of token authentication."""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth error response (RFC 6749 5.2): ``error`` code, description, HTTP status.

    ``headers`` carries what the response needs besides the body (``DPoP-Nonce``,
    ``WWW-Authenticate`` for a failed client authentication).
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class AuthenticationFailed(Exception):
    """An API call whose credentials are present but not acceptable: answer ``status``
    with ``WWW-Authenticate: www_authenticate`` (RFC 6750 3, RFC 9449 7.1)."""

    def __init__(self, message: str, *, status: int = 401, www_authenticate: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.www_authenticate = www_authenticate


class ClientError(ValueError):
    """A client registration that Hygie refuses (bad redirect URI, scope, key...)."""


class UnknownClient(LookupError):
    """No client with that id."""
