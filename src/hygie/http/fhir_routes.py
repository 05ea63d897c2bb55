"""The FHIR REST API at ``/fhir``: HTTP in, :class:`FhirRequest` to the router, HTTP out.

Bodies larger than ``max_body_bytes`` are refused with 413 before they are read whole.
The store is synchronous. Writes, and every request on PostgreSQL, run in the thread
pool, since they may wait on a lock or the network. Reads on SQLite run on the event loop:
they never wait (WAL snapshots) and take ~0.1 ms, less than the hop to a thread and back
(measured: 166 us a read through ASGI inline, 548 us through the pool).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from hygie.fhir.capability import capability_statement
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.http_types import FhirRequest, FhirResponse
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import AuditCollector
from hygie.security.audit.sink import AuditNotStored, AuditSink
from hygie.security.edge import context_of
from hygie.security.pep import EnforcementPoint

log = logging.getLogger(__name__)

METHODS = ["GET", "POST", "PUT", "DELETE"]


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class FhirRoute(Route):
    """``/fhir{path}``, meant to be the first route (FHIR calls are most of the traffic, and
    every route before it is tried on each of them), except the searches another router
    serves itself (``GET /fhir/AuditEvent``), left to the routes after it."""

    def __init__(
        self, endpoint: Callable[[Request], object], *, searches_elsewhere: Collection[str]
    ) -> None:
        super().__init__("/fhir{path:path}", endpoint, methods=METHODS)
        self._elsewhere = frozenset(
            f"/fhir/{resource_type}" for resource_type in searches_elsewhere
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("method") == "GET" and get_route_path(scope) in self._elsewhere:
            return Match.NONE, {}
        return super().matches(scope)


def fhir_route(
    router: FhirRouter,
    max_body_bytes: int,
    *,
    inline_reads: bool,
    enforcement: EnforcementPoint,
    sink: AuditSink,
    searches_elsewhere: Collection[str] = (),
) -> Route:
    """``/fhir``: each request gets the guard of its caller (the edge has authenticated it);
    its audit entries are stored, awaited without blocking the event loop, before the
    response leaves. ``searches_elsewhere``: resource types whose search another route
    serves (see :class:`FhirRoute`)."""

    async def endpoint(request: Request) -> Response:
        ctx = context_of(request.scope)
        if ctx is None:  # only the public capability statement; the edge answers 401 first
            if request.method == "GET" and request.path_params["path"].strip("/") == "metadata":
                capabilities = capability_statement(router.store, router.fhir_base)
                return to_response(FhirResponse.json(200, capabilities))
            return _outcome(401, "login", "authentication required")
        body = b""
        if request.method != "GET":  # a FHIR GET carries no body: nothing to read
            try:
                body = await read_body(request, max_body_bytes)
            except BodyTooLarge:
                limit = f"the request body exceeds {max_body_bytes} bytes"
                return _outcome(413, "too-costly", limit)
        fhir_request = FhirRequest(
            method=request.method,
            path=request.path_params["path"].strip("/"),
            query=tuple(request.query_params.multi_items()),
            headers=request.headers,
            body=body,
        )
        collected = AuditCollector()
        guard = enforcement.guard(ctx, audit=collected)
        if inline_reads and request.method == "GET":
            response = router.handle(fhir_request, guard)
        else:
            response = await run_in_threadpool(router.handle, fhir_request, guard)
        if collected.entries:
            try:
                await sink.submit_async(collected.entries)
            except AuditNotStored:
                log.exception("audit entries not stored: response withheld")
                return _outcome(503, "transient", "the access could not be recorded; retry")
        return to_response(response)

    return FhirRoute(endpoint, searches_elsewhere=searches_elsewhere)


def _outcome(status: int, code: str, message: str) -> Response:
    return to_response(FhirResponse.json(status, FhirError(status, Issue(code, message)).outcome()))


def to_response(fhir_response: FhirResponse) -> Response:
    return Response(
        fhir_response.body,
        fhir_response.status,
        fhir_response.headers,
        media_type=fhir_response.media_type if fhir_response.body else None,
    )
