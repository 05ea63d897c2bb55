"""Searches and history: the read interactions that answer with a Bundle.

Both pass the request's guard: a type-level check first, its narrowing in the SQL, then
the instance-level check on every match, include and history entry that leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from hygie.fhir.access import HISTORY, SEARCH, AccessGuard
from hygie.fhir.dates import date_range
from hygie.fhir.errors import bad_request
from hygie.fhir.search import (
    SearchPage,
    SearchQuery,
    execute_search,
    parse_search,
    searchset_bundle,
)
from hygie.fhir.store import FhirStore, history


class ReadService:
    def __init__(
        self, store: FhirStore, *, fhir_base: str, default_count: int, max_count: int
    ) -> None:
        self.store = store
        self.fhir_base = fhir_base
        self.default_count = default_count
        self.max_count = max_count

    def search(
        self,
        resource_type: str,
        params: Sequence[tuple[str, str]],
        strict: bool,
        conn: Connection | None = None,
        *,
        guard: AccessGuard,
    ) -> dict[str, Any]:
        guard.check_type(SEARCH, resource_type)
        query = parse_search(
            resource_type,
            params,
            self.store.registry,
            strict=strict,
            default_count=self.default_count,
            max_count=self.max_count,
        )
        if conn is not None:
            page = self._search(conn, query, guard)
        else:
            with self.store.database.read() as own:
                page = self._search(own, query, guard)
        return searchset_bundle(page, query, fhir_base=self.fhir_base)

    def _search(self, conn: Connection, query: SearchQuery, guard: AccessGuard) -> SearchPage:
        page = execute_search(conn, query, self.store.registry, narrowing=guard.narrowing())
        reveal_all = self.store.reveal_all
        return replace(
            page,
            matches=reveal_all(guard.release(conn, SEARCH, page.matches)),
            includes=reveal_all(guard.release(conn, SEARCH, page.includes)),
        )

    def history(
        self,
        params: Sequence[tuple[str, str]],
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        guard: AccessGuard,
    ) -> dict[str, Any]:
        guard.check_type(HISTORY, resource_type or "Resource")
        count, since, before = self.default_count, None, None
        for name, value in params:
            if name == "_count":
                count = _positive_int(name, value, self.max_count)
            elif name == "_since":
                since = _instant(value)
            elif name == "_before":
                before = _positive_int(name, value, 2**62)
            elif name != "_format":
                raise bad_request(f"history does not take the parameter {name!r}")
        with self.store.database.read() as conn:
            rows = history(
                conn,
                resource_type=resource_type,
                resource_id=resource_id,
                since=since,
                before_hseq=before,
                count=count + 1,
                narrowing=guard.narrowing(),
            )
            # Paging follows the rows read; entries the caller may not see are left out.
            visible = {
                (v.reference, v.version)
                for v in guard.release(conn, HISTORY, [v for _h, _m, v in rows[:count]])
            }
        path = "/".join(p for p in (resource_type, resource_id) if p)
        base = f"{self.fhir_base}/{path}/_history".replace("//_history", "/_history")
        kept = [(k, v) for k, v in params if k != "_before"]
        links = [{"relation": "self", "url": _url(base, list(params))}]
        if len(rows) > count:
            rows = rows[:count]
            links.append(
                {"relation": "next", "url": _url(base, [*kept, ("_before", str(rows[-1][0]))])}
            )
        live = [v for _h, _m, v in rows if (v.reference, v.version) in visible and not v.deleted]
        readable = {(v.reference, v.version): v for v in self.store.reveal_all(live)}
        entries = []
        for _hseq, method, stored in rows:
            if (stored.reference, stored.version) not in visible:
                continue
            if not stored.deleted and (stored.reference, stored.version) not in readable:
                continue  # its content was erased
            entry: dict[str, Any] = {
                "fullUrl": f"{self.fhir_base}/{stored.reference}",
                "request": {
                    "method": method,
                    "url": stored.reference if method != "POST" else stored.resource_type,
                },
                "response": {
                    "status": {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[
                        method
                    ],
                    "etag": stored.etag,
                    "lastModified": stored.last_modified,
                },
            }
            if not stored.deleted:
                entry["resource"] = readable[(stored.reference, stored.version)].resource()
            entries.append(entry)
        return {"resourceType": "Bundle", "type": "history", "link": links, "entry": entries}


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def _positive_int(name: str, value: str, maximum: int) -> int:
    if not value.isdigit() or not 0 < int(value) <= maximum:
        raise bad_request(f"{name} must be a whole number from 1 to {maximum}, got {value!r}")
    return int(value)


def _instant(value: str) -> int:
    try:
        return date_range(value)[0]
    except ValueError as exc:
        raise bad_request(f"_since: {exc}") from None
