"""Batch and transaction Bundles (http.html#transaction).

A transaction runs in one database transaction: entries are processed in the order the
spec prescribes (DELETE, POST, PUT, GET), ``urn:uuid:`` and other fullUrl references are
rewritten to the ids the server assigns, and any failure rolls the whole Bundle back. A
batch runs each entry on its own and reports each outcome.

Every entry passes the request's guard: its type-level check while the Bundle is parsed,
before any I/O, then the instance-level checks of the store and of reads.

A Bundle that declares a profile (``meta.profile``) with a registered check must pass it
before anything else is done: the composition root registers them (IHE MHD's Provide
Document Bundle rules, see ``hygie.record.mhd``), so the engine imports no domain code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from hygie.fhir.access import READ, AccessGuard, action_of
from hygie.fhir.errors import FhirError, Issue, bad_request, not_found, operation_outcome
from hygie.fhir.model import StoredResource, WriteResult
from hygie.fhir.store import (
    FhirStore,
    ItemError,
    StoreTransaction,
    check_id,
    read_current,
    read_version,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hygie.fhir.reads import ReadService

MAX_ENTRIES = 10_000
# Raises a FhirError (naming the entry at fault) unless the Bundle meets its profile's rules.
ProfileCheck = Callable[[dict[str, Any]], None]
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3}
_STATUS_TEXT = {200: "200 OK", 201: "201 Created", 204: "204 No Content"}


@dataclass
class Entry:
    index: int
    method: str
    url: str  # relative to the FHIR base: "Patient", "Patient/1", "Patient?identifier=x"
    resource: dict[str, Any] | None
    full_url: str | None
    if_match: int | None = None
    if_none_exist: str | None = None
    assigned_id: str | None = None  # id chosen before writing, so references can point at it
    existing: StoredResource | None = None  # what a conditional entry matched
    target: str | None = field(default=None)  # "Type/id" this entry ends up writing

    @property
    def resource_type(self) -> str:
        return self.url.split("?")[0].split("/")[0]


class BundleProcessor:
    def __init__(self, store: FhirStore, reads: ReadService, *, fhir_base: str) -> None:
        self.store = store
        self.reads = reads
        self.fhir_base = fhir_base
        self._profile_checks: dict[str, ProfileCheck] = {}

    def add_profile_checks(self, checks: Mapping[str, ProfileCheck]) -> None:
        """Check Bundles declaring one of these profiles (canonical URL -> check)."""
        self._profile_checks.update(checks)

    def process(
        self, bundle: object, *, guard: AccessGuard, return_resources: bool = False
    ) -> dict[str, Any]:
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise bad_request("POST to the FHIR base takes a Bundle", "Bundle")
        kind = bundle.get("type")
        if kind not in ("batch", "transaction"):
            raise bad_request(
                f"Bundle.type must be batch or transaction, got {kind!r}", "Bundle.type"
            )
        self._check_profiles(bundle)
        entries = self._parse_entries(bundle)
        if kind == "transaction":
            for entry in entries:
                with _blame(entry):
                    guard.check_type(_action(entry), entry.resource_type)
            responses = self._transaction(entries, guard, return_resources)
        else:
            responses = self._batch(entries, guard, return_resources)
        return {"resourceType": "Bundle", "type": f"{kind}-response", "entry": responses}

    # -- parsing --------------------------------------------------------------------------
    def _check_profiles(self, bundle: dict[str, Any]) -> None:
        meta = bundle.get("meta")
        profiles = meta.get("profile") if isinstance(meta, dict) else None
        if not isinstance(profiles, list) or not self._profile_checks:
            return
        for profile in profiles:
            # A canonical may carry its version: "url|4.2.0".
            check = self._profile_checks.get(str(profile).split("|", 1)[0])
            if check is not None:
                check(bundle)

    def _parse_entries(self, bundle: dict[str, Any]) -> list[Entry]:
        raw_entries = bundle.get("entry", [])
        if not isinstance(raw_entries, list):
            raise bad_request("Bundle.entry must be an array", "Bundle.entry")
        if len(raw_entries) > MAX_ENTRIES:
            raise FhirError(
                413,
                Issue(
                    "too-costly",
                    f"a Bundle may hold at most {MAX_ENTRIES} "
                    f"entries, this one has {len(raw_entries)}",
                ),
            )
        return [self._parse_entry(i, raw) for i, raw in enumerate(raw_entries)]

    def _parse_entry(self, index: int, raw: object) -> Entry:
        where = f"Bundle.entry[{index}]"
        if not isinstance(raw, dict):
            raise bad_request(f"{where} must be an object", where)
        request = raw.get("request")
        if not isinstance(request, dict):
            raise bad_request(
                f"{where}.request is required in a batch or transaction",
                f"{where}.request",
                code="required",
            )
        method = request.get("method")
        if method not in _ORDER:
            raise bad_request(
                f"{where}.request.method must be GET, POST, PUT or DELETE, got {method!r}",
                f"{where}.request.method",
            )
        url = request.get("url")
        if not isinstance(url, str) or not url.strip():
            raise bad_request(
                f"{where}.request.url is required", f"{where}.request.url", code="required"
            )
        url = url.strip().removeprefix(self.fhir_base).strip("/")
        resource = raw.get("resource")
        if method in ("POST", "PUT") and not isinstance(resource, dict):
            raise bad_request(
                f"{where}: a {method} entry needs a resource", f"{where}.resource", code="required"
            )
        if_match = request.get("ifMatch")
        entry = Entry(
            index,
            method,
            url,
            resource if isinstance(resource, dict) else None,
            raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None,
            if_none_exist=request.get("ifNoneExist"),
        )
        if if_match is not None:
            digits = str(if_match).removeprefix("W/").strip('"')
            if not digits.isdigit():
                raise bad_request(
                    f"{where}.request.ifMatch {if_match!r} is not a version ETag",
                    f"{where}.request.ifMatch",
                )
            entry.if_match = int(digits)
        self.store.known_type(entry.resource_type)
        return entry

    # -- transaction --------------------------------------------------------------------
    def _transaction(
        self, entries: list[Entry], guard: AccessGuard, return_resources: bool
    ) -> list[dict[str, Any]]:
        responses: dict[int, dict[str, Any]] = {}
        self.store.prepare([e.resource for e in entries if e.resource is not None])
        with self.store.transaction(guard) as tx:
            self._resolve_targets(tx, entries)
            _check_no_duplicates(entries)
            mapping = {e.full_url: e.target for e in entries if e.full_url and e.target}
            for entry in entries:
                if entry.resource is not None:
                    entry.resource = _rewrite(entry.resource, mapping)
                if "?" in entry.url:
                    entry.url = _rewrite_query(entry.url, mapping)
            new = [e for e in entries if e.method == "POST" and e.existing is None]
            for entry in sorted(entries, key=lambda e: (_ORDER[e.method], e.index)):
                if entry.method == "POST" and entry.existing is None:
                    continue  # created together below, once the DELETEs are done
                if entry.method == "PUT" and new:
                    responses.update(self._create_new(tx, new, return_resources))
                    new = []
                with _blame(entry):
                    responses[entry.index] = self._run(tx, entry, return_resources)
            if new:
                responses.update(self._create_new(tx, new, return_resources))
        return [responses[i] for i in range(len(entries))]

    def _create_new(
        self, tx: StoreTransaction, entries: list[Entry], return_resources: bool
    ) -> dict[int, dict[str, Any]]:
        """The POST entries that create, in one batch of statements."""
        items = [(e.resource, e.assigned_id or "", e.resource_type) for e in entries]
        try:
            results = tx.create_many(items)
        except ItemError as error:
            with _blame(entries[error.position]):
                raise FhirError(error.status, error.issues) from None
        return {
            e.index: self._write_response(result, 201, return_resources)
            for e, result in zip(entries, results, strict=True)
        }

    def _resolve_targets(self, tx: StoreTransaction, entries: list[Entry]) -> None:
        """Decide, before any write, which resource each POST and PUT entry will write."""
        for entry in entries:
            rtype = entry.resource_type
            if entry.method == "POST":
                if entry.if_none_exist:
                    matches = tx.find_visible(rtype, entry.if_none_exist)
                    if len(matches) > 1:
                        raise FhirError(
                            412,
                            Issue(
                                "duplicate",
                                f"Bundle.entry[{entry.index}]: ifNoneExist "
                                f"'{entry.if_none_exist}' matches {len(matches)} resources",
                            ),
                        )
                    if matches:
                        entry.existing = matches[0]
                        entry.target = matches[0].reference
                        continue
                entry.assigned_id = str(uuid.uuid4())
                entry.target = f"{rtype}/{entry.assigned_id}"
            elif entry.method == "PUT":
                if "?" in entry.url:
                    criteria = entry.url.split("?", 1)[1]
                    matches = tx.find_visible(rtype, criteria)
                    if len(matches) > 1:
                        raise FhirError(
                            412,
                            Issue(
                                "multiple-matches",
                                f"Bundle.entry[{entry.index}]: '{criteria}' "
                                f"matches {len(matches)} resources",
                            ),
                        )
                    assert entry.resource is not None
                    if matches:
                        entry.assigned_id = matches[0].id
                    else:
                        given = entry.resource.get("id")
                        entry.assigned_id = (
                            check_id(given) if isinstance(given, str) else str(uuid.uuid4())
                        )
                    entry.url = f"{rtype}/{entry.assigned_id}"
                parts = entry.url.split("/")
                if len(parts) != 2:
                    raise bad_request(
                        f"Bundle.entry[{entry.index}]: PUT needs Type/id or "
                        f"Type?criteria, got {entry.url!r}"
                    )
                entry.assigned_id = check_id(parts[1])
                entry.target = entry.url
            elif entry.method == "DELETE" and "?" not in entry.url:
                entry.target = entry.url

    def _run(self, tx: StoreTransaction, entry: Entry, return_resources: bool) -> dict[str, Any]:
        rtype = entry.resource_type
        if entry.method == "POST":
            if entry.existing is not None:
                return self._write_response(
                    WriteResult(entry.existing, unchanged=True), 200, return_resources
                )
            result = tx.create(entry.resource, resource_id=entry.assigned_id, expected_type=rtype)
            return self._write_response(result, 201, return_resources)
        if entry.method == "PUT":
            assert entry.assigned_id is not None
            result = tx.update(
                rtype,
                entry.assigned_id,
                {**(entry.resource or {}), "id": entry.assigned_id},
                if_match=entry.if_match,
            )
            return self._write_response(result, 201 if result.created else 200, return_resources)
        if entry.method == "DELETE":
            if "?" in entry.url:
                tx.conditional_delete(rtype, entry.url.split("?", 1)[1])
            else:
                tx.delete(rtype, check_id(entry.url.split("/")[1]))
            return {"response": {"status": _STATUS_TEXT[204]}}
        assert tx.guard is not None
        return self._get(tx.conn, entry, tx.guard)

    def _get(self, conn: Connection, entry: Entry, guard: AccessGuard) -> dict[str, Any]:
        path, _, query = entry.url.partition("?")
        parts = path.split("/")
        if len(parts) == 1:
            bundle = self.reads.search(
                parts[0],
                parse_qsl(query, keep_blank_values=True),
                strict=False,
                conn=conn,
                guard=guard,
            )
            return {"resource": bundle, "response": {"status": _STATUS_TEXT[200]}}
        if len(parts) == 2:
            stored = read_current(conn, parts[0], check_id(parts[1]))
        elif len(parts) == 4 and parts[2] == "_history" and parts[3].isdigit():
            stored = read_version(conn, parts[0], check_id(parts[1]), int(parts[3]))
        else:
            raise bad_request(
                f"Bundle.entry[{entry.index}]: GET {entry.url!r} is not supported in a Bundle"
            )
        if not guard.release(conn, READ, [stored]):
            raise not_found(stored.resource_type, stored.id)
        return {
            "resource": self.store.reveal(stored).resource(),
            "response": {
                "status": _STATUS_TEXT[200],
                "etag": stored.etag,
                "lastModified": stored.last_modified,
            },
        }

    # -- batch ----------------------------------------------------------------------------
    def _batch(
        self, entries: list[Entry], guard: AccessGuard, return_resources: bool
    ) -> list[dict[str, Any]]:
        # Entries of a batch should not depend on each other, but fullUrl references between
        # POSTed entries are rewritten as in a transaction: exporters often send batches so.
        mapping: dict[str, str] = {}
        for entry in entries:
            if entry.method == "POST" and not entry.if_none_exist and entry.full_url:
                entry.assigned_id = str(uuid.uuid4())
                mapping[entry.full_url] = f"{entry.resource_type}/{entry.assigned_id}"
        responses = []
        for entry in entries:
            if entry.resource is not None:
                entry.resource = _rewrite(entry.resource, mapping)
            try:
                guard.check_type(_action(entry), entry.resource_type)
                if entry.resource is not None:
                    self.store.prepare([entry.resource])
                with self.store.transaction(guard) as tx:
                    if entry.method == "POST" and entry.if_none_exist:
                        result = tx.create(
                            entry.resource,
                            if_none_exist=entry.if_none_exist,
                            expected_type=entry.resource_type,
                        )
                        responses.append(
                            self._write_response(
                                result, 200 if result.unchanged else 201, return_resources
                            )
                        )
                        continue
                    if entry.method == "PUT" and "?" in entry.url:
                        rtype, criteria = entry.url.split("?", 1)
                        result = tx.conditional_update(rtype, criteria, entry.resource)
                        responses.append(
                            self._write_response(
                                result, 201 if result.created else 200, return_resources
                            )
                        )
                        continue
                    if entry.method == "PUT":
                        self._resolve_targets(tx, [entry])
                    responses.append(self._run(tx, entry, return_resources))
            except FhirError as error:
                responses.append(
                    {
                        "response": {
                            "status": str(error.status),
                            "outcome": operation_outcome(error.issues),
                        }
                    }
                )
        return responses

    def _write_response(
        self, result: WriteResult, status: int, with_resource: bool
    ) -> dict[str, Any]:
        stored = result.stored
        response: dict[str, Any] = {
            "response": {
                "status": _STATUS_TEXT[status],
                "location": f"{stored.reference}/_history/{stored.version}",
                "etag": stored.etag,
                "lastModified": stored.last_modified,
            }
        }
        if with_resource:
            response["resource"] = self.store.reveal(stored).resource()
        return response


def _action(entry: Entry) -> str:
    return action_of(entry.method, search="?" in entry.url or "/" not in entry.url)


@contextmanager
def _blame(entry: Entry) -> Iterator[None]:
    """Prefix the issues of a failing entry with the entry's position and request."""
    try:
        yield
    except FhirError as error:
        where = f"Bundle.entry[{entry.index}] ({entry.method} {entry.url})"
        error.issues = [
            Issue(i.code, f"{where}: {i.diagnostics}", i.expression, i.severity)
            for i in error.issues
        ]
        raise


def _check_no_duplicates(entries: list[Entry]) -> None:
    seen: dict[str, int] = {}
    for entry in entries:
        if entry.method == "GET" or entry.target is None:
            continue
        if entry.target in seen:
            raise bad_request(
                f"Bundle.entry[{entry.index}] and Bundle.entry[{seen[entry.target]}] both "
                f"write {entry.target}; a transaction may touch each resource once"
            )
        seen[entry.target] = entry.index


# Elements that point at another entry by its fullUrl: Reference.reference and url elements
# such as Attachment.url (IHE MHD: a DocumentReference's content is a Binary of the Bundle).
_POINTERS = frozenset({"reference", "url"})


def _rewrite(value: Any, mapping: dict[str, str]) -> Any:
    """Replace references to other entries' fullUrls with the ids the server assigned."""
    if not mapping:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _POINTERS and isinstance(item, str) and item in mapping:
                out[key] = mapping[item]
            else:
                out[key] = _rewrite(item, mapping)
        return out
    if isinstance(value, list):
        return [_rewrite(item, mapping) for item in value]
    return value


def _rewrite_query(url: str, mapping: dict[str, str]) -> str:
    path, query = url.split("?", 1)
    pairs = [(k, mapping.get(v, v)) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs)}"
