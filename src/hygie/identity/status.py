"""Identity statuses of the French identity-vigilance rules (RNIV), on a FHIR Patient.

RNIV (Référentiel national d'identitovigilance, exigence EXI SI 07) names four exclusive
statuses from two independent proofs: an identity document of high trust checked by a
person (C), and a match from the national INSi teleservice (I)::

    provisoire  neither        récupérée  I only
    validée     C only         qualifiée  I and C (the INS may then be used and shared)

A status moves up when a proof is added, and back to provisoire when a doubt arises (the
identity is questioned, a document proves false): see :func:`next_status` and
:data:`TRANSITIONS`.

On the Patient it is written as the FR Core examples do (ANS "Cercle de soins",
/work/shared/data/fhir-fr): the ``fr-core-identity-reliability`` extension with an
``identityStatus`` coding of ``fr-core-cs-v2-0445`` (PROV, RECUP, VALI, QUAL), and, once a
document was checked, ``validationDate`` and ``validationMode`` (the kind of document,
``fr-core-cs-mode-validation-identity``).
"""

from __future__ import annotations

import copy
from datetime import date
from enum import Enum
from typing import Any

RELIABILITY_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"
MODE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-mode-validation-identity"

# Documents of high trust that may validate an identity for the INS (FR Core value set
# fr-core-vs-mode-validation-identity-ins, plus the residence permit the RNIV accepts).
HIGH_TRUST_DOCUMENTS = {
    "CN": "Carte nationale d'identité",
    "PA": "Passeport",
    "CS": "Titre de séjour",
    "AN": "Extrait d'acte de naissance",
    "LE": "Livret de famille",
}


class IdentityStatusError(ValueError):
    """A status change the RNIV does not allow (French message)."""


class IdentityStatus(Enum):
    PROVISOIRE = ("PROV", "Identité provisoire")
    RECUPEREE = ("RECUP", "Identité récupérée")
    VALIDEE = ("VALI", "Identité validée")
    QUALIFIEE = ("QUAL", "Identité qualifiée")

    def __init__(self, code: str, label: str) -> None:
        self.code = code
        self.label = label

    @property
    def insi_matched(self) -> bool:
        return self in (IdentityStatus.RECUPEREE, IdentityStatus.QUALIFIEE)

    @property
    def document_checked(self) -> bool:
        return self in (IdentityStatus.VALIDEE, IdentityStatus.QUALIFIEE)

    @classmethod
    def of_proofs(cls, *, document_checked: bool, insi_matched: bool) -> IdentityStatus:
        if document_checked:
            return cls.QUALIFIEE if insi_matched else cls.VALIDEE
        return cls.RECUPEREE if insi_matched else cls.PROVISOIRE

    @classmethod
    def from_code(cls, code: str) -> IdentityStatus | None:
        return next((status for status in cls if status.code == code), None)


def _transitions() -> frozenset[tuple[IdentityStatus, IdentityStatus]]:
    allowed = set()
    for current in IdentityStatus:
        for document, insi in ((True, False), (False, True)):
            after = IdentityStatus.of_proofs(
                document_checked=current.document_checked or document,
                insi_matched=current.insi_matched or insi,
            )
            if after is not current:
                allowed.add((current, after))
        if current is not IdentityStatus.PROVISOIRE:
            allowed.add((current, IdentityStatus.PROVISOIRE))  # a doubt takes the proofs away
    return frozenset(allowed)


# (from, to): a proof added (document or INSi), or back to provisoire on a doubt.
TRANSITIONS = _transitions()


def check_transition(current: IdentityStatus, after: IdentityStatus) -> None:
    if (current, after) not in TRANSITIONS:
        raise IdentityStatusError(
            f"passer d'une « {current.label.lower()} » à une « {after.label.lower()} » "
            "n'est pas permis : "
            + (
                "une identité qualifiée exige une pièce d'identité à haut niveau de confiance "
                "vérifiée et un appel au téléservice INSi concordant"
                if after is IdentityStatus.QUALIFIEE
                else "le statut change par l'ajout d'une preuve (pièce d'identité ou INSi) "
                "ou revient à provisoire en cas de doute"
            )
        )


def next_status(
    current: IdentityStatus, *, document_checked: bool = False, insi_matched: bool = False
) -> IdentityStatus:
    """The status once this proof is added to the ones ``current`` already has."""
    return IdentityStatus.of_proofs(
        document_checked=current.document_checked or document_checked,
        insi_matched=current.insi_matched or insi_matched,
    )


def identity_status(patient: dict[str, Any]) -> IdentityStatus:
    """The status a Patient carries; provisoire when it carries none (or an unknown code)."""
    for extension in _reliability(patient):
        for part in extension.get("extension", ()):
            if part.get("url") == "identityStatus":
                coding = part.get("valueCoding") or {}
                if coding.get("system") == STATUS_SYSTEM:
                    return IdentityStatus.from_code(coding.get("code", "")) or (
                        IdentityStatus.PROVISOIRE
                    )
    return IdentityStatus.PROVISOIRE


def validation_mode(patient: dict[str, Any]) -> str | None:
    """The code of the identity document checked, if any (CN, PA ...)."""
    for extension in _reliability(patient):
        for part in extension.get("extension", ()):
            if part.get("url") == "validationMode":
                code = (part.get("valueCoding") or {}).get("code")
                return str(code) if code else None
    return None


def reliability_extension(
    status: IdentityStatus, *, document: str | None = None, checked_on: date | None = None
) -> dict[str, Any]:
    """The FR Core extension for ``status``; ``document`` (a HIGH_TRUST_DOCUMENTS code)
    and ``checked_on`` record the document check."""
    parts: list[dict[str, Any]] = [
        {
            "url": "identityStatus",
            "valueCoding": {"system": STATUS_SYSTEM, "code": status.code, "display": status.label},
        }
    ]
    if checked_on is not None:
        parts.append({"url": "validationDate", "valueDate": checked_on.isoformat()})
    if document is not None:
        parts.append(
            {
                "url": "validationMode",
                "valueCoding": {
                    "system": MODE_SYSTEM,
                    "code": document,
                    "display": HIGH_TRUST_DOCUMENTS[document],
                },
            }
        )
    return {"url": RELIABILITY_URL, "extension": parts}


def with_status(
    patient: dict[str, Any],
    status: IdentityStatus,
    *,
    document: str | None = None,
    checked_on: date | None = None,
) -> dict[str, Any]:
    """A copy of ``patient`` moved to ``status`` (raises IdentityStatusError if the RNIV
    does not allow it); a document check already recorded is kept unless a new one is given."""
    current = identity_status(patient)
    if status is not current:
        check_transition(current, status)
    if status.document_checked and document is None:
        document = validation_mode(patient)
        checked_on = checked_on or _validation_date(patient)
        if document is None:
            raise IdentityStatusError(
                f"une « {status.label.lower()} » exige la pièce d'identité vérifiée "
                f"({', '.join(HIGH_TRUST_DOCUMENTS.values())})"
            )
    if document is not None and document not in HIGH_TRUST_DOCUMENTS:
        raise IdentityStatusError(
            f"le document {document} n'est pas une pièce à haut niveau de confiance "
            f"({', '.join(f'{c} : {label}' for c, label in HIGH_TRUST_DOCUMENTS.items())})"
        )
    if not status.document_checked:
        document = checked_on = None
    updated = copy.deepcopy(patient)
    others = [e for e in updated.get("extension", ()) if e.get("url") != RELIABILITY_URL]
    updated["extension"] = [
        *others,
        reliability_extension(status, document=document, checked_on=checked_on),
    ]
    return updated


def _reliability(patient: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in patient.get("extension", ()) if e.get("url") == RELIABILITY_URL]


def _validation_date(patient: dict[str, Any]) -> date | None:
    for extension in _reliability(patient):
        for part in extension.get("extension", ()):
            if part.get("url") == "validationDate" and part.get("valueDate"):
                return date.fromisoformat(str(part["valueDate"]))
    return None
