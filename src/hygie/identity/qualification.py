"""Adding a proof to a patient's identity: a checked identity document, or an INSi match.

Both read and write the Patient through a :class:`FhirClient` acting as the caller (the
enforcement point decides and audits); the new status follows the RNIV
(:func:`hygie.identity.status.next_status`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hygie.http.caller_fhir import FhirClient
from hygie.identity.ins import INS_SYSTEMS, Traits, check_ins_traits, parse_ins
from hygie.identity.insi import InsiClient, InsiIdentity
from hygie.identity.patient import ins_identifier, ins_identifiers, traits_of
from hygie.identity.status import (
    IdentityStatus,
    IdentityStatusError,
    identity_status,
    next_status,
    with_status,
)


class InsiNoMatch(IdentityStatusError):
    """INSi found nothing for these traits (or did not confirm this INS)."""


def record_document_check(
    fhir: FhirClient, patient_id: str, document: str, *, checked_on: date
) -> IdentityStatus:
    """A person checked ``document`` (a HIGH_TRUST_DOCUMENTS code) against the patient."""
    patient = fhir.read("Patient", patient_id)
    status = next_status(identity_status(patient), document_checked=True)
    fhir.update(with_status(patient, status, document=document, checked_on=checked_on))
    return status


def record_insi_match(fhir: FhirClient, patient_id: str, insi: InsiClient) -> IdentityStatus:
    """Ask INSi about the patient's traits: verify the INS it carries, or search one.

    On a match the Patient carries INSi's INS and moves to récupérée or qualifiée; with
    no match nothing changes and :class:`InsiNoMatch` says why."""
    patient = fhir.read("Patient", patient_id)
    traits = traits_of(patient)
    if traits is None:
        raise IdentityStatusError(
            "l'appel au téléservice INSi exige les cinq traits : nom de naissance, prénoms, "
            "date de naissance complète, sexe et lieu de naissance (code INSEE)"
        )
    found = _insi_identity(patient, traits, insi)
    check_ins_traits(found.ins, traits)
    status = next_status(identity_status(patient), insi_matched=True)
    others = [i for i in patient.get("identifier", ()) if i.get("system") not in INS_SYSTEMS]
    patient = {**patient, "identifier": [ins_identifier(found.ins), *others]}
    fhir.update(with_status(patient, status))
    return status


def _insi_identity(patient: dict[str, Any], traits: Traits, insi: InsiClient) -> InsiIdentity:
    carried = next(ins_identifiers(patient), None)
    if carried is None:
        found = insi.search(traits)
        if found is None:
            raise InsiNoMatch(
                "le téléservice INSi ne trouve aucune identité unique pour ces traits : "
                "vérifiez-les sur la pièce d'identité"
            )
        return found
    ins = parse_ins(carried[2], carried[1])
    if not insi.verify(ins, traits):
        raise InsiNoMatch("le téléservice INSi ne confirme pas cet INS avec ces traits")
    return InsiIdentity(ins, traits)
