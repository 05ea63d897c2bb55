"""What a FHIR ``Reference.reference`` string points at: type and id, or only a URL.

Shared by indexing (reference rows, ``resolve() is Patient`` filters) and by anything that
reads a reference written by a client. Relative ("Patient/123"), versioned
("Patient/123/_history/2") and absolute ("https://host/fhir/Patient/123") references give
a type and id; URNs and canonical URLs give only the URL; local ("#x") give nothing.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from fhirpathpy.models import models

_ID = r"[A-Za-z0-9\-.]{1,64}"
_TYPED = re.compile(rf"(?:^|/)([A-Z][A-Za-z]+)/({_ID})(?:/_history/{_ID})?$")


class ReferenceTarget(NamedTuple):
    target_type: str | None
    target_id: str | None
    url: str | None


@cache
def resource_type_names() -> frozenset[str]:
    """Every FHIR R4 resource type (the types whose ancestry reaches ``Resource``)."""
    parents: dict[str, str] = models["r4"]["type2Parent"]
    names = set()
    for name in parents:
        ancestor: str | None = name
        while ancestor is not None and ancestor != "Resource":
            ancestor = parents.get(ancestor)
        if ancestor == "Resource":
            names.add(name)
    return frozenset(names)


def parse_reference(reference: str) -> ReferenceTarget | None:
    """The target of a reference string; None for a local ``#id`` or an empty one."""
    if not reference or reference.startswith("#"):
        return None
    match = _TYPED.search(reference)
    absolute = ":" in reference
    if match is None or match.group(1) not in resource_type_names():
        return ReferenceTarget(None, None, reference) if absolute else None
    return ReferenceTarget(match.group(1), match.group(2), reference if absolute else None)
