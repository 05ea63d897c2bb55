"""Which requested scopes a client may be granted: those its registration covers.

A registered ``patient/*.rs`` covers a request for ``patient/Observation.rs`` or
``patient/Observation.r``: same context, same or wildcard type, fewer permissions, and
at least the registered constraints. A non-clinical scope must be registered as is.
"""

from __future__ import annotations

from collections.abc import Iterable

from hygie.security.oauth.errors import OAuthError
from hygie.security.scopes import InvalidScope, Scope, parse_scopes


def covers(allowed: Scope, requested: Scope) -> bool:
    if not allowed.clinical or not requested.clinical:
        return allowed.raw == requested.raw
    return (
        allowed.context == requested.context
        and allowed.resource_type in ("*", requested.resource_type)
        and requested.permissions <= allowed.permissions
        and set(allowed.constraints) <= set(requested.constraints)
    )


def granted_scopes(text: str, allowed_raw: Iterable[str]) -> frozenset[Scope]:
    """Parse ``text`` and check every scope against the client's; ``invalid_scope`` if not."""
    try:
        requested = parse_scopes(text)
        allowed = parse_scopes(" ".join(allowed_raw))
    except InvalidScope as exc:
        raise OAuthError("invalid_scope", str(exc)) from None
    if not requested:
        raise OAuthError("invalid_scope", "the scope parameter is required")
    refused = sorted(scope.raw for scope in requested if not any(covers(a, scope) for a in allowed))
    if refused:
        raise OAuthError("invalid_scope", f"not allowed for this client: {' '.join(refused)}")
    return requested
