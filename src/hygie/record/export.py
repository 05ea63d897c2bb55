"""Everything Hygie holds about a patient, in one zip archive the patient downloads.

The archive holds ``dossier.json``, one FHIR ``Bundle`` of type ``collection`` with the
Patient (as :func:`hygie.identity.sharing.shareable_patient` lets it travel: the INS only
when the identity is qualifiée) and every resource of their compartment (the FHIR R4
patient CompartmentDefinition, searched type by type like ``Patient/$everything``);
``documents/`` with each document's file (decrypted, as the patient reads it); and a short
French ``README.txt``. Every read goes through the caller's :class:`FhirClient`, so the
enforcement point decides and audits them. The archive is built in memory and refused
beyond ``max_bytes`` (default :data:`MAX_EXPORT_BYTES`) with :class:`ExportTooLarge`
rather than exhausting it.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson

from hygie.fhir.searchparams import default_registry
from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.identity.sharing import shareable_patient
from hygie.record.documents import DocumentError, document_content
from hygie.security.pep.compartment import CompartmentReader

MAX_EXPORT_BYTES = 256 * 1024 * 1024
# Served by the audit log, not the store; the patient reads them in their access history.
_NOT_IN_STORE = frozenset({"AuditEvent"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

README = """\
Votre dossier Hygie — export du {date}

Ce fichier contient tout ce qu'Hygie conserve sur vous à cette date :

- dossier.json : votre dossier au format international FHIR R4 (un « Bundle » de type
  collection) : votre identité, vos consultations, mesures, allergies, traitements,
  vaccinations, antécédents, rendez-vous, messages, documents et vos choix de
  confidentialité. Tout logiciel de santé compatible FHIR peut le lire.
- documents/ : le fichier de chacun de vos documents ({documents} au total), déchiffré.

L'historique des accès à votre dossier se consulte dans votre espace santé, rubrique
« Historique des accès », où chaque accès peut être vérifié dans le journal signé.

Gardez ce fichier en lieu sûr : il contient des données de santé.
"""


class ExportTooLarge(ValueError):
    """The archive would exceed the configured size (French message)."""


def export_archive(
    fhir: FhirClient, patient_id: str, *, max_bytes: int = MAX_EXPORT_BYTES
) -> bytes:
    """The zip archive of the patient's whole record."""
    budget = _Budget(max_bytes)
    # The INS travels only once the identity is qualifiée (national identity rules).
    resources = [shareable_patient(fhir.read("Patient", patient_id))]
    for resource in _compartment(fhir, patient_id):
        budget.spend(len(orjson.dumps(resource)))  # stop before holding too much
        resources.append(resource)
    budget = _Budget(max_bytes)
    bundle = orjson.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "total": len(resources),
            "entry": [{"resource": r} for r in resources],
        },
        option=orjson.OPT_INDENT_2,
    )
    budget.spend(len(bundle))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dossier.json", bundle)
        names: set[str] = set()
        documents = [r for r in resources if r["resourceType"] == "DocumentReference"]
        for document in documents:
            try:
                content, _type, file_name = document_content(fhir, document["id"])
            except (DocumentError, FhirCallError):
                continue  # no stored content (an external link) or no longer readable
            budget.spend(len(content))
            archive.writestr(_unique(f"documents/{document['id']}-{file_name}", names), content)
        readme = README.format(date=f"{datetime.now(UTC):%d/%m/%Y}", documents=len(names))
        archive.writestr("README.txt", readme.encode())
    return buffer.getvalue()


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ExportTooLarge(
                f"Votre dossier dépasse la taille d'export autorisée "
                f"({self.limit // (1024 * 1024)} Mo) : contactez le support d'Hygie."
            )


def _compartment(fhir: FhirClient, patient_id: str) -> Iterator[dict[str, Any]]:
    """Each resource of the patient's compartment once, type by type."""
    patient = f"Patient/{patient_id}"
    for resource_type, params in sorted(_compartment_params().items()):
        if resource_type in _NOT_IN_STORE or resource_type == "Patient":
            continue
        seen: set[str] = set()
        for param in params:
            for resource in fhir.search_all(resource_type, [(param, patient)]):
                if resource["id"] not in seen:
                    seen.add(resource["id"])
                    yield resource


@cache
def _compartment_params() -> dict[str, tuple[str, ...]]:
    """The compartment's search parameters this server knows, per resource type."""
    return CompartmentReader(default_registry()).params


def _unique(path: str, taken: set[str]) -> str:
    folder, _, name = path.rpartition("/")
    name = _UNSAFE.sub("_", name)[:120] or "document"
    candidate, n = f"{folder}/{name}", 1
    while candidate in taken:
        n += 1
        stem, dot, ext = name.rpartition(".")
        candidate = f"{folder}/{stem}-{n}.{ext}" if dot else f"{folder}/{name}-{n}"
    taken.add(candidate)
    return candidate
