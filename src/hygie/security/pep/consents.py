"""Keeps the consent side tables in step with the Consent resources, in the same transaction.

A store write observer (:class:`hygie.fhir.access.WriteObserver`): each version of a
Consent replaces the rows of the previous one; a deletion removes them. A Consent Hygie
cannot honour as written is refused (422) and its write rolled back, rather than stored
and half-honoured.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert

from hygie.fhir.errors import FhirError, Issue
from hygie.fhir.model import StoredResource
from hygie.security.pep.tables import (
    security_pep_blocked,
    security_pep_masked,
    security_pep_no_emergency,
)
from hygie.security.policy.consent import consent_effects
from hygie.security.policy.errors import ConsentError

_TABLES = (security_pep_blocked, security_pep_masked, security_pep_no_emergency)


class ConsentIndex:
    def __call__(
        self, conn: Connection, stored: StoredResource, body: dict[str, Any] | None
    ) -> None:
        if stored.resource_type != "Consent":
            return
        ref = stored.reference
        for table in _TABLES:
            conn.execute(delete(table).where(table.c.consent_ref == ref))
        if body is None:
            return
        try:
            effects = consent_effects(body)
        except ConsentError as error:
            raise FhirError(422, Issue("business-rule", f"{ref}: {error}")) from None
        patient = effects.patient_ref
        if effects.blocked_actors:
            conn.execute(
                insert(security_pep_blocked),
                [
                    {"consent_ref": ref, "patient_ref": patient, "actor_ref": actor}
                    for actor in sorted(effects.blocked_actors)
                ],
            )
        if effects.masked_documents:
            conn.execute(
                insert(security_pep_masked),
                [
                    {"consent_ref": ref, "document_ref": doc, "patient_ref": patient}
                    for doc in sorted(effects.masked_documents)
                ],
            )
        if effects.emergency_forbidden:
            conn.execute(
                insert(security_pep_no_emergency).values(consent_ref=ref, patient_ref=patient)
            )
