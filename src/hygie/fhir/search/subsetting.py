"""``_summary`` and ``_elements``: return part of each matched resource, tagged SUBSETTED.

Which elements are "summary" and which are mandatory comes from the FHIR structure
definitions as ``fhir.resources`` carries them (its R4B models, whose summary flags are
R4's for the resources Hygie serves). Only top-level elements are filtered; a kept
element keeps all its children.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hygie.fhir.search.query import Summary

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
_ALWAYS = frozenset(("resourceType", "id", "meta"))


@cache
def _definition(resource_type: str) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """(summary elements, mandatory elements, all elements) of a resource type."""
    from fhir.resources.R4B import get_fhir_model_class  # heavy: only when asked for

    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):  # not a resource type fhir.resources knows: keep it all
        return frozenset(), frozenset(), ()
    required = frozenset(
        field.alias or name
        for name, field in model.model_fields.items()
        if field.is_required()  # 1..1 complex elements
        or (  # 1..1 primitives, which may be given as a _name extension instead
            isinstance(field.json_schema_extra, dict)
            and field.json_schema_extra.get("element_required")
        )
    )
    return (
        frozenset(model.summary_elements_sequence()),
        required,
        tuple(model.elements_sequence()),
    )


def subset(
    resource: dict[str, Any], summary: Summary | None, elements: tuple[str, ...] | None
) -> dict[str, Any]:
    """The resource as ``_summary``/``_elements`` ask (unchanged if neither does)."""
    if elements is not None:
        return _keep(resource, _expand(resource, elements) | _required(resource))
    if summary == "true":
        summary_elements, _, all_elements = _definition(resource["resourceType"])
        if not all_elements:
            return resource
        return _keep(resource, set(summary_elements))
    if summary == "text":
        return _keep(resource, {"text"} | _required(resource))
    if summary == "data":
        return _tagged({k: v for k, v in resource.items() if k != "text"})
    return resource


def _required(resource: dict[str, Any]) -> set[str]:
    return set(_definition(resource["resourceType"])[1])


def _expand(resource: dict[str, Any], names: tuple[str, ...]) -> set[str]:
    """Element names as asked, plus the choice-type forms: ``value`` -> ``valueQuantity``."""
    known = _definition(resource["resourceType"])[2] or tuple(resource)
    kept = set(names)
    for name in names:
        kept.update(
            k for k in known if k.startswith(name) and k[len(name) : len(name) + 1].isupper()
        )
    return kept


def _keep(resource: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """Only ``names`` (and their ``_name`` primitive extensions), always id and meta."""
    kept = {
        k: v
        for k, v in resource.items()
        if k in _ALWAYS or k in names or (k.startswith("_") and k[1:] in names)
    }
    return _tagged(kept)


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta", {}))
    tags = list(meta.get("tag", []))
    if not any(
        t.get("code") == "SUBSETTED" and t.get("system") == SUBSETTED["system"] for t in tags
    ):
        tags.append(SUBSETTED)
    meta["tag"] = tags
    return {**resource, "meta": meta}
