"""The web edge: authenticate every request, then let the one policy decide.

The edge only authenticates (bearer or DPoP token for APIs, session cookie for pages) and
builds the frozen :class:`RequestContext`; it never decides on its own. FHIR requests go on
to the authorized store, which decides per resource; every other route is mapped here to a
policy action and decided by the same PDP, audited like the rest. A route that is neither
public nor mapped is refused: default deny.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Protocol
from urllib.parse import quote

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from hygie.security.audit.entry import AuditEntry, Outcome
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.oauth.errors import AuthenticationFailed
from hygie.security.pep.audit import actor_of
from hygie.security.policy.model import DecisionPoint, ResourceFacts
from hygie.security.request_ids import new_request_id
from hygie.security.sessions.service import SESSION_COOKIE

log = logging.getLogger(__name__)

CONTEXT_KEY = "hygie.context"  # where the RequestContext lives in the ASGI scope's state
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ZONE_CACHE_SIZE = 4096  # source addresses whose network zone is remembered

# Reachable without credentials: sign-in, discovery, health, static files. Prefixes.
PUBLIC_PREFIXES = (
    "/health",
    "/.well-known/",
    "/oauth/",
    "/connexion",
    "/static/",
    "/plan/static/",
    "/fhir/metadata",
    "/favicon.ico",
)


@dataclass(frozen=True, slots=True)
class RouteRule:
    """A non-FHIR route and the policy action it is decided as."""

    prefix: str
    methods: frozenset[str]
    action: str
    resource_type: str
    # Callers whose requests the route's handler decides, on facts only it knows (whose
    # Device a reported tag is): the edge passes them on undecided, as /fhir to the store.
    handler_decides: frozenset[PrincipalKind] = frozenset()


# First match wins; anything else outside PUBLIC_PREFIXES and /fhir is refused. Assets are
# FHIR Devices and zones FHIR Locations, so the location API is decided as the FHIR
# interactions it amounts to (a backend client needs system/Device.rs or .u, a professional
# user/Device...); maps, wayfinding and positioning a scan show no health data. A device
# reports only its own tag: the tracking route decides ``location.write`` on the tag's Device.
ROUTE_RULES: tuple[RouteRule, ...] = (
    RouteRule("/plan/personnel", frozenset({"GET"}), "fhir.search", "Device"),
    RouteRule("/plan", frozenset({"GET"}), "location.map", "Map"),
    RouteRule("/api/location/route", frozenset({"GET"}), "location.map", "Map"),
    RouteRule("/api/location/locate", frozenset({"POST"}), "location.map", "Map"),
    RouteRule(
        "/api/location/tags/",
        frozenset({"POST"}),
        "fhir.update",
        "Device",
        handler_decides=frozenset({PrincipalKind.DEVICE}),
    ),
    RouteRule("/api/location/reports", frozenset({"POST"}), "fhir.update", "Device"),
    RouteRule("/api/location/assets", frozenset({"POST", "PUT"}), "fhir.update", "Device"),
    RouteRule("/api/location/zones", frozenset({"POST"}), "fhir.create", "Location"),
    RouteRule("/api/location/zones", frozenset({"GET"}), "fhir.search", "Location"),
    RouteRule("/api/location/", frozenset({"GET"}), "fhir.search", "Device"),
    # Tree heads and proofs are hashes; the access history router decides who sees what.
    RouteRule("/api/audit/", frozenset({"GET"}), "web.page", "AuditLog"),
    # The handler asks the PDP for break-glass.open with the patient's facts.
    RouteRule("/api/bris-de-glace", frozenset({"POST"}), "web.page", "BreakGlass"),
    # The patient's space and the professional portal: pages are open to signed-in people;
    # the health data on them is decided per resource by the enforcement point.
    RouteRule("/espace", frozenset({"GET", "POST"}), "web.page", "PatientSpace"),
    RouteRule("/pro", frozenset({"GET", "POST"}), "web.page", "ProfessionalPortal"),
    RouteRule("/compte", frozenset({"GET", "POST"}), "web.page", "Account"),
    RouteRule("/deconnexion", frozenset({"POST"}), "web.page", "Account"),
)


class TokenAuthenticator(Protocol):
    def authenticate(
        self,
        *,
        method: str,
        url: str,
        authorization: str | None,
        dpop: str | None,
        network_zone: str,
        source_ip: str,
    ) -> RequestContext | None: ...


class SessionAuthenticator(Protocol):
    def context(
        self, cookie_value: str, *, network_zone: str, source_ip: str
    ) -> RequestContext | None: ...


class AuditSubmitter(Protocol):
    async def submit_async(self, entries: Sequence[AuditEntry]) -> list[int]: ...


def context_of(scope: Scope) -> RequestContext | None:
    """The authenticated caller of this request, as the edge established it."""
    state = scope.get("state") or {}
    context = state.get(CONTEXT_KEY)
    return context if isinstance(context, RequestContext) else None


def rule_for(method: str, path: str) -> RouteRule | None:
    for rule in ROUTE_RULES:
        if path.startswith(rule.prefix) and method in rule.methods:
            return rule
    return None


def is_public(path: str) -> bool:
    return path == "/" or path.startswith(PUBLIC_PREFIXES)


class Edge:
    """ASGI middleware in front of every route."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenAuthenticator,
        sessions: SessionAuthenticator,
        zone_of: Callable[[str], str],
        pdp: DecisionPoint,
        audit: AuditSubmitter,
        base_url: str,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.sessions = sessions
        # Zones are configured at start-up: an address's zone never changes while serving.
        self.zone_of = lru_cache(maxsize=ZONE_CACHE_SIZE)(zone_of)
        self.pdp = pdp
        self.audit = audit
        self.origin = _origin(base_url)
        self.base_url = base_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method, path = scope["method"], scope["path"]
        source_ip = (scope.get("client") or ("", 0))[0]
        zone = self.zone_of(source_ip) if source_ip else "internet"
        ctx, via_cookie, failure = self._authenticate(scope, headers, zone, source_ip)
        if failure is not None:
            await failure(scope, receive, send)
            return
        scope.setdefault("state", {})[CONTEXT_KEY] = ctx
        if is_public(path):
            await self.app(scope, receive, send)
            return
        if ctx is None:
            await _unauthenticated(scope, headers, send, receive)
            return
        if via_cookie and method not in SAFE_METHODS and not self._same_origin(headers):
            await _json(403, {"error": "forbidden", "message": "cross-origin request refused"})(
                scope, receive, send
            )
            return
        if path == "/fhir" or path.startswith("/fhir/"):
            await self.app(scope, receive, send)  # the authorized store decides per resource
            return
        rule = rule_for(method, path)
        if rule is None:
            await _json(403, {"error": "forbidden", "message": "no policy allows this route"})(
                scope, receive, send
            )
            return
        if ctx.principal.kind in rule.handler_decides:
            await self.app(scope, receive, send)
            return
        decision = self.pdp.decide(
            ctx, rule.action, ResourceFacts(resource_type=rule.resource_type)
        )
        await self.audit.submit_async(
            [
                AuditEntry(
                    time=datetime.now(UTC),
                    actor=actor_of(ctx.principal),
                    action=rule.action,
                    outcome=Outcome.PERMIT if decision.allowed else Outcome.DENY,
                    policy_id=decision.policy_id,
                    client_id=ctx.client_id,
                    network_zone=ctx.network_zone,
                    purpose_of_use=ctx.purpose_of_use,
                )
            ]
        )
        if not decision.allowed:
            await _json(403, {"error": "forbidden", "message": decision.reason})(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _authenticate(
        self, scope: Scope, headers: Headers, zone: str, source_ip: str
    ) -> tuple[RequestContext | None, bool, ASGIApp | None]:
        authorization = headers.get("authorization")
        scheme = (authorization or "").split(" ", 1)[0].lower()
        if authorization and (scheme in ("bearer", "dpop") or not is_public(scope["path"])):
            try:
                ctx = self.tokens.authenticate(
                    method=scope["method"],
                    url=self.base_url + scope["path"],
                    authorization=authorization,
                    dpop=headers.get("dpop"),
                    network_zone=zone,
                    source_ip=source_ip,
                )
            except AuthenticationFailed as failed:
                return (
                    None,
                    False,
                    _json(
                        failed.status,
                        {"error": "invalid_token", "message": failed.message},
                        {"www-authenticate": failed.www_authenticate},
                    ),
                )
            return _with_request_id(ctx), False, None
        cookie = _cookie(headers, SESSION_COOKIE)
        if cookie:
            ctx = self.sessions.context(cookie, network_zone=zone, source_ip=source_ip)
            return _with_request_id(ctx), ctx is not None, None
        return None, False, None

    def _same_origin(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None:
            referer = headers.get("referer")
            return referer is not None and _origin(referer) == self.origin
        return origin == self.origin


def _with_request_id(ctx: RequestContext | None) -> RequestContext | None:
    if ctx is None or ctx.request_id:
        return ctx
    return replace(ctx, request_id=new_request_id())


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _cookie(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header authenticates nobody
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> ASGIApp:
    body = orjson.dumps(payload)

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return respond


async def _unauthenticated(scope: Scope, headers: Headers, send: Send, receive: Receive) -> None:
    """Pages send the browser to sign in; APIs answer 401 with the scheme to use."""
    path = scope["path"]
    wants_page = scope["method"] == "GET" and "text/html" in headers.get("accept", "")
    if wants_page and not path.startswith(("/fhir", "/api/")):
        target = path + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        location = "/connexion?next=" + quote(target, safe="")
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", location.encode()), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    if path.startswith("/fhir"):
        payload: object = {
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "error", "code": "login", "diagnostics": "authentication required"}
            ],
        }
    else:
        payload = {"error": "unauthenticated", "message": "authentication required"}
    await _json(401, payload, {"www-authenticate": 'Bearer, DPoP algs="ES256 RS256"'})(
        scope, receive, send
    )
