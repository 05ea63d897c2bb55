"""The searchset Bundle: total, self/first/previous/next links, match and include entries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hygie.fhir.errors import operation_outcome
from hygie.fhir.model import StoredResource
from hygie.fhir.search.execute import SearchPage
from hygie.fhir.search.paging import encode_cursor
from hygie.fhir.search.query import SearchQuery
from hygie.fhir.search.subsetting import subset


def searchset_bundle(page: SearchPage, query: SearchQuery, *, fhir_base: str) -> dict[str, Any]:
    base = f"{fhir_base.rstrip('/')}/{query.resource_type}"
    params = list(query.link_params)
    self_params = params
    if query.cursor is not None:
        self_params = [*params, ("_cursor", encode_cursor(query.cursor, query.sort))]
    links = [{"relation": "self", "url": _url(base, self_params)}]
    if query.cursor is not None:
        links.append({"relation": "first", "url": _url(base, params)})
    if page.previous_cursor is not None:
        previous = [*params, ("_cursor", page.previous_cursor)]
        links.append({"relation": "previous", "url": _url(base, previous)})
    if page.next_cursor is not None:
        links.append(
            {"relation": "next", "url": _url(base, [*params, ("_cursor", page.next_cursor)])}
        )

    entries = [
        _entry(fhir_base, m, subset(m.resource(), query.summary, query.elements), "match")
        for m in page.matches
    ]
    entries += [_entry(fhir_base, i, i.resource(), "include") for i in page.includes]
    if page.warnings:
        entries.append(
            {"resource": operation_outcome(page.warnings), "search": {"mode": "outcome"}}
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(
    fhir_base: str, stored: StoredResource, resource: dict[str, Any], mode: str
) -> dict[str, Any]:
    return {
        "fullUrl": f"{fhir_base.rstrip('/')}/{stored.reference}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base
