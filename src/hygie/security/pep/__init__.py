"""Security core: the one policy enforcement point of the FHIR store.

:class:`EnforcementPoint` builds per request a :class:`PolicyGuard` (the
:class:`hygie.fhir.access.AccessGuard` the FHIR engine calls on every interaction);
:func:`secure_store` is the store with documents and messages encrypted at rest
(:class:`ContentVault`) and the consent side tables kept up to date; :func:`system_audit`
audits :class:`hygie.fhir.access.SystemAccess`.
"""

from __future__ import annotations

from hygie.db.engine import Database
from hygie.fhir.searchparams import SearchParamRegistry
from hygie.fhir.store import FhirStore
from hygie.fhir.validation_rules import ResourceRules
from hygie.security.crypto import Keyring
from hygie.security.pep.audit import AuditSubmitter, system_audit
from hygie.security.pep.compartment import PATIENT_COMPARTMENT, CompartmentReader
from hygie.security.pep.consents import ConsentIndex
from hygie.security.pep.guard import EnforcementPoint, PolicyGuard
from hygie.security.pep.secret_parts import BinaryData, MessagePayload
from hygie.security.pep.vault import PLATFORM_KEY, ContentVault


def secure_store(
    db: Database,
    keyring: Keyring,
    *,
    registry: SearchParamRegistry | None = None,
    rules: ResourceRules | None = None,
) -> FhirStore:
    """The FHIR store as Hygie runs it: Binary data and message payloads encrypted,
    consents indexed, the domain's business ``rules`` checked on every write."""
    return FhirStore(
        db,
        registry=registry,
        codec=ContentVault(db, keyring, (BinaryData(), MessagePayload()), registry=registry),
        observers=(ConsentIndex(),),
        rules=rules,
    )


__all__ = [
    "PATIENT_COMPARTMENT",
    "PLATFORM_KEY",
    "AuditSubmitter",
    "CompartmentReader",
    "ConsentIndex",
    "ContentVault",
    "EnforcementPoint",
    "PolicyGuard",
    "secure_store",
    "system_audit",
]
