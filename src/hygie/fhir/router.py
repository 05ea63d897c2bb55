"""The FHIR REST interactions (http.html) over the store, without any web framework.

``FhirRouter.handle(FhirRequest, AccessGuard) -> FhirResponse`` is all the ASGI layer
calls. Errors are ``FhirError`` values turned into an OperationOutcome here, in one place.

Every interaction passes the request's guard (hygie.fhir.access). A request without one is
refused (403): there is no unguarded way in. Refusals at type level answer 403; a resource
the caller may not read answers 404, exactly as one that does not exist, so that its
existence does not leak.
"""

from __future__ import annotations

import base64
import logging
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from hygie.fhir.access import READ, AccessGuard, action_of
from hygie.fhir.bundles import BundleProcessor
from hygie.fhir.capability import capability_statement
from hygie.fhir.dates import from_micros
from hygie.fhir.errors import FhirError, Issue, bad_request, not_found, operation_outcome
from hygie.fhir.http_types import FhirRequest, FhirResponse
from hygie.fhir.model import StoredResource, WriteResult
from hygie.fhir.reads import ReadService
from hygie.fhir.store import FhirStore, check_id, read_current, read_version

log = logging.getLogger(__name__)

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


class FhirRouter:
    def __init__(
        self, store: FhirStore, *, fhir_base: str, default_count: int = 20, max_count: int = 1000
    ) -> None:
        self.store = store
        self.fhir_base = fhir_base.rstrip("/")
        self.reads = ReadService(
            store, fhir_base=self.fhir_base, default_count=default_count, max_count=max_count
        )
        self.bundles = BundleProcessor(store, self.reads, fhir_base=self.fhir_base)

    def handle(self, request: FhirRequest, guard: AccessGuard | None = None) -> FhirResponse:
        if guard is None:
            error = FhirError(403, Issue("forbidden", "no access: the request is not authorized"))
            return FhirResponse.json(403, error.outcome())
        try:
            return self._dispatch(request, guard)
        except FhirError as error:
            return FhirResponse.json(error.status, error.outcome())
        finally:
            guard.finish()  # the audit entries are stored before the response leaves

    # -- dispatch ---------------------------------------------------------------------
    def _dispatch(self, req: FhirRequest, guard: AccessGuard) -> FhirResponse:
        _check_accept(req)
        parts = [p for p in req.path.split("/") if p]
        method = req.method
        if not parts:
            if method == "POST":
                return self._bundle(req, guard)
            raise _not_allowed(method, "the FHIR base")
        if parts == ["metadata"] and method == "GET":
            return FhirResponse.json(200, capability_statement(self.store, self.fhir_base))
        if parts == ["_history"] and method == "GET":
            return self._json(self.reads.history(req.query, guard=guard))
        resource_type = self.store.known_type(parts[0])
        rest = parts[1:]
        if not rest:
            return self._type_level(req, resource_type, guard)
        if rest == ["_search"] and method == "POST":
            return self._json(
                self.reads.search(resource_type, _search_params(req), _strict(req), guard=guard)
            )
        if rest == ["_history"] and method == "GET":
            return self._json(
                self.reads.history(req.query, resource_type=resource_type, guard=guard)
            )
        resource_id = check_id(rest[0])
        if len(rest) == 1:
            return self._instance_level(req, resource_type, resource_id, guard)
        if rest[1] == "_history" and method == "GET":
            if len(rest) == 2:
                return self._json(
                    self.reads.history(
                        req.query,
                        resource_type=resource_type,
                        resource_id=resource_id,
                        guard=guard,
                    )
                )
            if len(rest) == 3:
                version = _version(rest[2])
                return self._read(req, guard, resource_type, resource_id, version)
        raise FhirError(404, Issue("not-supported", f"no FHIR interaction at {req.path!r}"))

    def _type_level(self, req: FhirRequest, resource_type: str, guard: AccessGuard) -> FhirResponse:
        if req.method == "GET":
            return self._json(
                self.reads.search(resource_type, list(req.query), _strict(req), guard=guard)
            )
        if req.method not in ("POST", "PUT", "DELETE"):
            raise _not_allowed(req.method, resource_type)
        guard.check_type(action_of(req.method), resource_type)
        if req.method == "POST":
            resource = _body(req, resource_type)
            result = self.store.create(
                resource,
                if_none_exist=req.header("if-none-exist"),
                expected_type=resource_type,
                guard=guard,
            )
            return self._written(req, result, 200 if result.unchanged else 201)
        criteria = _criteria(req)
        if req.method == "PUT":
            result = self.store.conditional_update(
                resource_type, criteria, _body(req, resource_type), guard=guard
            )
            return self._written(req, result, 201 if result.created else 200)
        return self._deleted(self.store.conditional_delete(resource_type, criteria, guard=guard))

    def _instance_level(
        self, req: FhirRequest, resource_type: str, resource_id: str, guard: AccessGuard
    ) -> FhirResponse:
        if req.method == "GET":
            return self._read(req, guard, resource_type, resource_id)
        if req.method not in ("PUT", "DELETE"):
            raise _not_allowed(req.method, f"{resource_type}/{resource_id}")
        guard.check_type(action_of(req.method), resource_type)
        if req.method == "PUT":
            result = self.store.update(
                resource_type,
                resource_id,
                _body(req, resource_type),
                if_match=_if_match(req),
                guard=guard,
            )
            return self._written(req, result, 201 if result.created else 200)
        return self._deleted(self.store.delete(resource_type, resource_id, guard=guard))

    def _read(
        self,
        req: FhirRequest,
        guard: AccessGuard,
        resource_type: str,
        resource_id: str,
        version: int | None = None,
    ) -> FhirResponse:
        """read or vread: 404 when the caller may not see the resource, as if absent."""
        guard.check_type(READ, resource_type)
        with self.store.database.read() as conn:
            if version is None:
                stored = read_current(conn, resource_type, resource_id)
            else:
                stored = read_version(conn, resource_type, resource_id, version)
            if not guard.release(conn, READ, [stored]):
                raise not_found(resource_type, resource_id)
        return self._resource(req, self.store.reveal(stored))

    def _bundle(self, req: FhirRequest, guard: AccessGuard) -> FhirResponse:
        wants = _prefer(req, "return") == "representation"
        bundle = _body(req, "Bundle")
        return self._json(self.bundles.process(bundle, guard=guard, return_resources=wants))

    # -- responses ----------------------------------------------------------------------
    def _json(self, payload: dict[str, Any]) -> FhirResponse:
        return FhirResponse.json(200, payload)

    def _resource(self, req: FhirRequest, stored: StoredResource) -> FhirResponse:
        headers = version_headers(stored)
        assert stored.content is not None
        if stored.resource_type == "Binary" and not _wants_fhir(req):
            binary = stored.resource()
            data = base64.b64decode(binary.get("data", ""))
            return FhirResponse(200, data, headers, binary["contentType"])
        return FhirResponse(200, stored.content, headers)

    def _written(self, req: FhirRequest, result: WriteResult, status: int) -> FhirResponse:
        stored = self.store.reveal(result.stored)
        headers = version_headers(stored)
        headers["location"] = f"{self.fhir_base}/{stored.reference}/_history/{stored.version}"
        prefer = _prefer(req, "return")
        if prefer == "minimal":
            return FhirResponse(status, b"", headers)
        if prefer == "OperationOutcome":
            verb = "created" if result.created else "matched" if result.unchanged else "updated"
            outcome = operation_outcome(
                [Issue("informational", f"{stored.reference} {verb}", severity="information")]
            )
            return FhirResponse.json(status, outcome, headers)
        assert stored.content is not None
        return FhirResponse(status, stored.content, headers)

    def _deleted(self, result: WriteResult | None) -> FhirResponse:
        if result is None:
            return FhirResponse(204)
        return FhirResponse(204, b"", {"etag": result.stored.etag})


# -- request helpers ------------------------------------------------------------------------
def version_headers(stored: StoredResource) -> dict[str, str]:
    return {
        "etag": stored.etag,
        "last-modified": format_datetime(from_micros(stored.last_updated), usegmt=True),
    }


def _body(req: FhirRequest, resource_type: str) -> object:
    content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
    if resource_type == "Binary" and content_type and content_type not in JSON_TYPES:
        return {
            "resourceType": "Binary",
            "contentType": content_type,
            "data": base64.b64encode(req.body).decode("ascii"),
        }
    if content_type and content_type not in JSON_TYPES:
        raise FhirError(
            415,
            Issue(
                "not-supported",
                f"Content-Type {content_type!r} is not supported; send application/fhir+json",
            ),
        )
    if not req.body:
        raise bad_request("the request has no body; a FHIR resource in JSON is expected")
    try:
        parsed: object = orjson.loads(req.body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc}", code="structure") from None
    return parsed


def _check_accept(req: FhirRequest) -> None:
    fmt = dict(req.query).get("_format")
    if fmt and not any(t in fmt for t in ("json", "*/*")):
        raise FhirError(406, Issue("not-supported", f"_format={fmt!r}: this server speaks JSON"))


def _wants_fhir(req: FhirRequest) -> bool:
    accept = req.header("accept") or ""
    fmt = dict(req.query).get("_format", "")
    return any(t in accept or t in fmt for t in ("fhir+json", "application/json", "json"))


def _strict(req: FhirRequest) -> bool:
    return _prefer(req, "handling") == "strict"


def _prefer(req: FhirRequest, key: str) -> str | None:
    for part in (req.header("prefer") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == key:
            return value.strip().strip('"')
    return None


def _if_match(req: FhirRequest) -> int | None:
    raw = req.header("if-match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise bad_request(f'If-Match {raw!r} is not a version ETag such as W/"3"')
    return int(value)


def _version(raw: str) -> int:
    if not raw.isdigit():
        raise bad_request(f"{raw!r} is not a version id")
    return int(raw)


def _criteria(req: FhirRequest) -> str:
    if not req.query:
        raise bad_request(
            f"{req.method} on a resource type needs search criteria "
            "(a conditional update or delete)"
        )
    return urlencode(req.query)


def _search_params(req: FhirRequest) -> list[tuple[str, str]]:
    content_type = (req.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FhirError(
            415,
            Issue(
                "not-supported", "POST _search takes application/x-www-form-urlencoded parameters"
            ),
        )
    try:
        form = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise bad_request("the search form is not UTF-8") from None
    return list(req.query) + form


def _not_allowed(method: str, where: str) -> FhirError:
    return FhirError(405, Issue("not-supported", f"{method} is not allowed on {where}"))


__all__ = ["FhirRouter", "version_headers"]
