"""Security core: browser sessions, CSRF, the sign-in and account pages, external OIDC sign-in.

Exports :class:`SessionService` and :data:`SESSION_COOKIE` (the contract), the pages'
:func:`sessions_router`, :func:`page_context_factory` for other routers, and the OpenID
Connect relying party (:class:`OidcProvider`, :class:`OidcSignIn`).
"""

from hygie.security.sessions.oidc import OidcClient, OidcError, OidcProvider
from hygie.security.sessions.oidc_signin import OidcSignIn
from hygie.security.sessions.routes import page_context_factory, sessions_router
from hygie.security.sessions.service import SESSION_COOKIE, Session, SessionService

__all__ = [
    "SESSION_COOKIE",
    "OidcClient",
    "OidcError",
    "OidcProvider",
    "OidcSignIn",
    "Session",
    "SessionService",
    "page_context_factory",
    "sessions_router",
]
