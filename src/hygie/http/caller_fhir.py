"""FHIR calls made in process on behalf of the signed-in caller, for domain modules.

A page or JSON route of a domain module (the patient's space, the professional portal ...)
reads and writes health data through the same :class:`FhirRouter` and enforcement point as
``/fhir``, so consent, compartments and break-the-glass apply unchanged::

    async with caller_fhir(request) as fhir:
        documents = await run_in_threadpool(find_documents, fhir, patient_id)

The audit entries of everything done inside the block are stored when it ends, before the
route returns its response; if they cannot be stored the block raises
:class:`~hygie.security.audit.sink.AuditNotStored` and the caller must answer 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.requests import Request

from hygie.fhir.access import AccessGuard
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.http_types import FhirRequest, FhirResponse
from hygie.fhir.router import FhirRouter
from hygie.security.audit.entry import AuditEntry
from hygie.security.edge import context_of

JSON_HEADERS = {"content-type": "application/fhir+json", "accept": "application/fhir+json"}


class FhirCallError(Exception):
    """A FHIR interaction answered with an error status; ``outcome`` is its OperationOutcome."""

    def __init__(self, status: int, outcome: dict[str, Any]) -> None:
        self.status = status
        self.outcome = outcome
        issues = outcome.get("issue") or [{}]
        self.message = "; ".join(
            str(i.get("diagnostics") or i.get("code") or "error") for i in issues
        )
        super().__init__(f"{status}: {self.message}")


class FhirClient:
    """The FHIR REST interactions as method calls, under one caller's guard (synchronous)."""

    def __init__(self, router: FhirRouter, guard: AccessGuard) -> None:
        self._router = router
        self._guard = guard

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        headers: Mapping[str, str] = JSON_HEADERS,
    ) -> FhirResponse:
        """One interaction, answered as the router answers it (no status check)."""
        request = FhirRequest(method, path.strip("/"), tuple(query), dict(headers), body)
        return self._router.handle(request, self._guard)

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        return self._json(self.call("GET", f"{resource_type}/{resource_id}"))

    def search(self, resource_type: str, params: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """The first page of a search, as its searchset Bundle (pass ``_count`` to size it)."""
        return self._json(self.call("GET", resource_type, query=params))

    def search_resources(
        self, resource_type: str, params: Sequence[tuple[str, str]] = ()
    ) -> list[dict[str, Any]]:
        """The matches of the first page (``_include`` d resources left out)."""
        bundle = self.search(resource_type, params)
        return [
            entry["resource"]
            for entry in bundle.get("entry", ())
            if entry.get("search", {}).get("mode", "match") == "match"
        ]

    def search_all(
        self, resource_type: str, params: Sequence[tuple[str, str]] = (), *, page: int = 200
    ) -> Iterator[dict[str, Any]]:
        """Every match of a search, page after page (following the ``next`` link's cursor)."""
        query = [*params, ("_count", str(page))]
        while True:
            bundle = self.search(resource_type, query)
            for entry in bundle.get("entry", ()):
                if entry.get("search", {}).get("mode", "match") == "match":
                    yield entry["resource"]
            following = next(
                (link["url"] for link in bundle.get("link", ()) if link.get("relation") == "next"),
                None,
            )
            if following is None:
                return
            query = parse_qsl(urlsplit(following).query, keep_blank_values=True)

    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._write("POST", resource["resourceType"], resource))

    def update(self, resource: dict[str, Any]) -> dict[str, Any]:
        path = f"{resource['resourceType']}/{resource['id']}"
        return self._json(self._write("PUT", path, resource))

    def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """A batch or transaction Bundle; its response Bundle."""
        return self._json(self._write("POST", "", bundle))

    def binary(self, binary_id: str) -> tuple[bytes, str]:
        """A Binary's raw content and its content type."""
        response = self.call("GET", f"Binary/{binary_id}", headers={"accept": "*/*"})
        if response.status >= 400:
            raise FhirCallError(response.status, orjson.loads(response.body))
        return response.body, response.media_type

    def _write(self, method: str, path: str, resource: dict[str, Any]) -> FhirResponse:
        headers = {**JSON_HEADERS, "prefer": "return=representation"}
        return self.call(method, path, body=orjson.dumps(resource), headers=headers)

    @staticmethod
    def _json(response: FhirResponse) -> dict[str, Any]:
        payload: dict[str, Any] = orjson.loads(response.body) if response.body else {}
        if response.status >= 400:
            raise FhirCallError(response.status, payload)
        return payload


class AuditCollector:
    """Holds a request's audit entries until the web layer has them stored."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def submit(self, entries: Sequence[AuditEntry]) -> list[int]:
        self.entries.extend(entries)
        return []


@asynccontextmanager
async def caller_fhir(request: Request) -> AsyncIterator[FhirClient]:
    """A :class:`FhirClient` acting as the request's authenticated caller."""
    ctx = context_of(request.scope)
    if ctx is None:
        raise FhirError(401, Issue("login", "authentication required"))
    state = request.app.state
    collected = AuditCollector()
    guard = state.security.enforcement.guard(ctx, audit=collected)
    try:
        yield FhirClient(state.fhir_router, guard)
    finally:
        if collected.entries:
            await state.security.audit_sink.submit_async(collected.entries)
