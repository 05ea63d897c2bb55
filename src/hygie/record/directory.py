"""Who a professional is, for the patient: name, profession and organisation, read from the
Practitioner, PractitionerRole and Organization resources.

A patient may not read these through the enforcement point (they are outside their
compartment), yet the access history and the notifications must name who opened the
record. :class:`DirectoryAccess` is the narrowest guard that allows it: reads and searches
of those three directory types only, nothing else, no write. It holds no health data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from hygie.fhir.access import READ, SEARCH, Narrowing
from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.model import StoredResource
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.record.fhir_values import concept_text, human_name, reference_id

DIRECTORY_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization"})


class DirectoryAccess:
    """An :class:`hygie.fhir.access.AccessGuard` for the professional directory only."""

    def check_type(self, action: str, resource_type: str) -> None:
        if action not in (READ, SEARCH) or resource_type not in DIRECTORY_TYPES:
            raise FhirError(403, Issue("forbidden", "directory access reads professionals only"))

    def narrowing(self) -> Narrowing | None:
        return None

    def release(
        self, conn: Connection, action: str, resources: Sequence[StoredResource]
    ) -> list[StoredResource]:
        return [r for r in resources if r.resource_type in DIRECTORY_TYPES]

    def admit(
        self,
        conn: Connection,
        action: str,
        body: dict[str, Any] | None,
        current: StoredResource | None,
    ) -> None:
        raise FhirError(403, Issue("forbidden", "directory access never writes"))

    def finish(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Person:
    ref: str
    name: str
    profession: str = ""
    organisation: str = ""


class Directory:
    """Resolves references to people and organisations (cached for the directory's life:
    build one per request or per batch)."""

    def __init__(self, router: FhirRouter) -> None:
        self._fhir = FhirClient(router, DirectoryAccess())
        self._cache: dict[str, Person] = {}

    def people(self, refs: Iterable[str]) -> dict[str, Person]:
        return {ref: self.person(ref) for ref in dict.fromkeys(refs)}

    def person(self, ref: str) -> Person:
        if ref not in self._cache:
            self._cache[ref] = self._resolve(ref)
        return self._cache[ref]

    def _resolve(self, ref: str) -> Person:
        kind, _, ident = ref.partition("/")
        if kind == "Organization":
            return Person(ref, self._organisation_name(ident) or ref)
        if kind != "Practitioner":
            return Person(ref, ref)
        practitioner = self._read("Practitioner", ident)
        name = human_name(practitioner) if practitioner else ""
        roles = self._fhir.search_resources(
            "PractitionerRole", [("practitioner", ref), ("_count", "5")]
        )
        profession = ", ".join(
            text for text in (concept_text(c) for r in roles for c in r.get("code", ())) if text
        )
        organisations = [
            self._organisation_name(oid)
            for r in roles
            if (oid := reference_id((r.get("organization") or {}).get("reference"), "Organization"))
        ]
        return Person(ref, name or ref, profession, ", ".join(o for o in organisations if o))

    def _organisation_name(self, organisation_id: str) -> str:
        organisation = self._read("Organization", organisation_id)
        return str(organisation.get("name", "")) if organisation else ""

    def _read(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        try:
            return self._fhir.read(resource_type, resource_id)
        except FhirCallError:
            return None
