"""The patient's shared documents (the DMP role): add, replace, find and open them.

Every call goes through the caller's :class:`~hygie.http.caller_fhir.FhirClient`, so the
enforcement point decides on each document (compartment, care relationship, masking,
break-the-glass) and audits it. Documents travel as IHE MHD (:mod:`hygie.record.mhd`):
:func:`provide_document` is an ITI-65 submission, :func:`find_documents` an ITI-67 search,
:func:`document_content` an ITI-68 retrieval. A replaced document stays readable, with
status ``superseded`` and a link from its replacement (``relatesTo`` replaces).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.record.mhd import (
    ACCEPTED_CONTENT_TYPES,
    FILE_NAME_EXTENSION,
    LOINC,
    MAX_DOCUMENT_BYTES,
    Coded,
    NewDocument,
    provide_bundle,
)

# LOINC document type -> the French label forms offer; each with its LOINC class.
DOCUMENT_TYPES: dict[str, str] = {
    "18842-5": "Lettre de liaison de sortie (compte rendu d'hospitalisation)",
    "11488-4": "Compte rendu de consultation",
    "11502-2": "Compte rendu d'examens biologiques",
    "18748-4": "Compte rendu d'imagerie médicale",
    "11526-1": "Compte rendu d'anatomie et de cytologie pathologiques",
    "57833-6": "Ordonnance",
    "60591-5": "Synthèse médicale",
    "11369-6": "Historique des vaccinations",
    "51855-5": "Document personnel du patient",
}
_TYPE_DISPLAYS = {
    "18842-5": "Discharge summary",
    "11488-4": "Consult note",
    "11502-2": "Laboratory report",
    "18748-4": "Diagnostic imaging study",
    "11526-1": "Pathology study",
    "57833-6": "Prescription for medication",
    "60591-5": "Patient summary",
    "11369-6": "History of Immunization",
    "51855-5": "Patient Note",
}
# The class (DocumentReference.category) of each type, from the LOINC document classes.
_CLASSES = {
    "18842-5": Coded("18842-5", "Discharge summary"),
    "11488-4": Coded("11488-4", "Consult note"),
    "11502-2": Coded("26436-6", "Laboratory studies (set)"),
    "18748-4": Coded("18726-0", "Radiology studies (set)"),
    "11526-1": Coded("26436-6", "Laboratory studies (set)"),
    "57833-6": Coded("57833-6", "Prescription for medication"),
    "60591-5": Coded("60591-5", "Patient summary"),
    "11369-6": Coded("11369-6", "History of Immunization"),
    "51855-5": Coded("51855-5", "Patient Note"),
}
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "text/plain": ".txt",
}
_MAGIC = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
_MAX_TITLE = 200
_AUTHOR = re.compile(r"(Practitioner|PractitionerRole|Organization|Patient)/[A-Za-z0-9\-.]{1,64}")
_STATUSES = ("current", "superseded")

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "DOCUMENT_TYPES",
    "MAX_DOCUMENT_BYTES",
    "DocumentError",
    "DocumentSummary",
    "document_content",
    "find_documents",
    "provide_document",
    "read_document",
]


class DocumentError(ValueError):
    """A document Hygie will not take or cannot find; the message is French, for the user."""


@dataclass(frozen=True)
class DocumentSummary:
    id: str
    title: str
    type_code: str
    type_label: str
    date: datetime
    author_ref: str | None
    author_name: str | None
    content_type: str
    size: int | None
    binary_id: str | None
    status: str
    replaces: str | None  # the DocumentReference id this one replaces
    replaced_by: str | None  # the DocumentReference id that replaces this one


def find_documents(
    fhir: FhirClient,
    patient_id: str,
    *,
    type_code: str | None = None,
    include_superseded: bool = False,
) -> list[DocumentSummary]:
    """The patient's documents the caller may see, newest first (ITI-67)."""
    params = [
        ("patient", f"Patient/{patient_id}"),
        ("status", ",".join(_STATUSES) if include_superseded else "current"),
        ("_sort", "-date"),
        ("_count", "200"),
    ]
    if type_code is not None:
        params.append(("type", f"{LOINC}|{type_code}"))
    found = _all_matches(fhir, params)
    replaced_by = {old: doc["id"] for doc in found if (old := _replaced_id(doc)) is not None}
    return [_summary(doc, replaced_by.get(doc["id"])) for doc in found]


def read_document(fhir: FhirClient, document_id: str) -> DocumentSummary:
    """One document's metadata, if the caller may see it."""
    document = _read(fhir, document_id)
    newer = fhir.search_resources(
        "DocumentReference",
        [("relatesto", f"DocumentReference/{document_id}"), ("relation", "replaces")],
    )
    return _summary(document, newer[0]["id"] if newer else None)


def document_content(fhir: FhirClient, document_id: str) -> tuple[bytes, str, str]:
    """The document's bytes, content type and file name (ITI-68 on its attachment url)."""
    attachment = _attachment(_read(fhir, document_id))
    binary_id = _binary_id(attachment)
    if binary_id is None:
        raise DocumentError("Ce document n'a pas de contenu enregistré dans Hygie.")
    try:
        content, content_type = fhir.binary(binary_id)
    except FhirCallError as error:
        if error.status == 410:
            raise DocumentError("Le contenu de ce document a été effacé.") from None
        if error.status == 404:
            raise DocumentError("Document introuvable.") from None
        raise
    return content, content_type, _file_name_of(attachment, content_type)


def provide_document(
    fhir: FhirClient,
    *,
    patient_id: str,
    author_ref: str,
    title: str,
    type_code: str,
    content: bytes,
    content_type: str,
    file_name: str,
    replaces: str | None = None,
) -> DocumentSummary:
    """Add a document to the patient's record as one ITI-65 transaction (List, DocumentReference,
    Binary); with ``replaces``, the replaced one becomes ``superseded`` in the same
    transaction. Raises :class:`DocumentError` for what the user gave wrong."""
    patient_ref = f"Patient/{patient_id}"
    title = " ".join(title.split())
    if not title:
        raise DocumentError("Donnez un titre au document.")
    if len(title) > _MAX_TITLE:
        raise DocumentError(f"Le titre ne peut dépasser {_MAX_TITLE} caractères.")
    if type_code not in DOCUMENT_TYPES:
        raise DocumentError(f"Type de document inconnu : {type_code!r}.")
    _check_content(content, content_type)
    if not _AUTHOR.fullmatch(author_ref):
        raise DocumentError(f"Auteur du document invalide : {author_ref!r}.")
    if author_ref.startswith("Patient/") and author_ref != patient_ref:
        raise DocumentError("Un patient ne peut ajouter de documents qu'à son propre dossier.")
    old = _replaceable(fhir, replaces, patient_ref, author_ref) if replaces else None
    document = NewDocument(
        patient_ref=patient_ref,
        author_ref=author_ref,
        author_name=_name_of(fhir, author_ref),
        title=title,
        type=Coded(type_code, _TYPE_DISPLAYS[type_code]),
        category=_CLASSES[type_code],
        content=content,
        content_type=content_type,
        file_name=_clean_file_name(file_name, title, content_type),
        created=datetime.now(UTC),
        replaces=old,
    )
    response = fhir.transaction(provide_bundle(document))
    created = response["entry"][1]["resource"]  # entries answer in the Bundle's order
    return _summary(created, None)


# -- helpers -------------------------------------------------------------------------------
def _all_matches(fhir: FhirClient, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every page of a DocumentReference search, following its next links."""
    found: list[dict[str, Any]] = []
    while True:
        bundle = fhir.search("DocumentReference", params)
        found.extend(e["resource"] for e in bundle.get("entry", ()))
        following = [
            link["url"] for link in bundle.get("link", ()) if link.get("relation") == "next"
        ]
        if not following:
            return found
        params = parse_qsl(urlsplit(following[0]).query, keep_blank_values=True)


def _check_content(content: bytes, content_type: str) -> None:
    if content_type not in ACCEPTED_CONTENT_TYPES:
        raise DocumentError(
            "Ce format de fichier n'est pas accepté : envoyez un PDF, une image JPEG ou PNG, "
            "ou un texte."
        )
    if not content:
        raise DocumentError("Le fichier est vide.")
    if len(content) > MAX_DOCUMENT_BYTES:
        limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
        raise DocumentError(f"Le fichier dépasse la taille maximale de {limit} Mo.")
    magic = _MAGIC.get(content_type)
    if magic is not None and not content.startswith(magic):
        raise DocumentError("Le contenu du fichier ne correspond pas à son format déclaré.")
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError("Le fichier texte doit être encodé en UTF-8.") from None


def _replaceable(
    fhir: FhirClient, document_id: str, patient_ref: str, author_ref: str
) -> dict[str, Any]:
    old = _read(fhir, document_id)
    if (old.get("subject") or {}).get("reference") != patient_ref:
        raise DocumentError("Le document remplacé appartient au dossier d'un autre patient.")
    if author_ref not in {a.get("reference") for a in old.get("author") or []}:
        raise DocumentError("Seul l'auteur d'un document peut le remplacer.")
    if old.get("status") != "current":
        raise DocumentError("Ce document a déjà été remplacé : remplacez sa version actuelle.")
    return old


def _read(fhir: FhirClient, document_id: str) -> dict[str, Any]:
    try:
        return fhir.read("DocumentReference", document_id)
    except FhirCallError as error:
        if error.status in (404, 410):
            raise DocumentError("Document introuvable.") from None
        raise


def _name_of(fhir: FhirClient, author_ref: str) -> str | None:
    """The author's name as documents show it; None if the caller cannot read the author."""
    rtype, _, rid = author_ref.partition("/")
    try:
        author = fhir.read(rtype, rid)
    except FhirCallError:
        return None
    if rtype == "Organization":
        return str(author.get("name") or "") or None
    names = author.get("name") or []
    if not names:
        return None
    name = names[0]
    parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
    return " ".join(p for p in parts if p) or None


def _summary(document: dict[str, Any], replaced_by: str | None) -> DocumentSummary:
    attachment = _attachment(document)
    type_code = _loinc_code(document.get("type"))
    authors = document.get("author") or [{}]
    content_type = str(attachment.get("contentType") or "application/octet-stream")
    return DocumentSummary(
        id=document["id"],
        title=str(attachment.get("title") or document.get("description") or "Document"),
        type_code=type_code or "",
        type_label=DOCUMENT_TYPES.get(type_code or "", _type_text(document.get("type"))),
        date=_instant(document.get("date") or document["meta"]["lastUpdated"]),
        author_ref=authors[0].get("reference"),
        author_name=authors[0].get("display"),
        content_type=content_type,
        size=attachment.get("size"),
        binary_id=_binary_id(attachment),
        status=str(document.get("status")),
        replaces=_replaced_id(document),
        replaced_by=replaced_by,
    )


def _attachment(document: dict[str, Any]) -> dict[str, Any]:
    contents = document.get("content") or [{}]
    attachment = contents[0].get("attachment")
    return attachment if isinstance(attachment, dict) else {}


def _binary_id(attachment: dict[str, Any]) -> str | None:
    url = attachment.get("url")
    if not isinstance(url, str) or "Binary/" not in url:
        return None
    return url.rsplit("Binary/", 1)[1].split("/")[0] or None


def _replaced_id(document: dict[str, Any]) -> str | None:
    for relation in document.get("relatesTo") or []:
        target = (relation.get("target") or {}).get("reference", "")
        if relation.get("code") == "replaces" and "DocumentReference/" in target:
            return str(target.rsplit("DocumentReference/", 1)[1])
    return None


def _loinc_code(concept: object) -> str | None:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings or []:
        if coding.get("system") == LOINC and coding.get("code"):
            return str(coding["code"])
    return None


def _type_text(concept: object) -> str:
    if not isinstance(concept, dict):
        return "Document"
    codings = concept.get("coding") or [{}]
    return str(concept.get("text") or codings[0].get("display") or "Document")


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _file_name_of(attachment: dict[str, Any], content_type: str) -> str:
    for extension in attachment.get("extension") or []:
        if extension.get("url") == FILE_NAME_EXTENSION and extension.get("valueString"):
            return str(extension["valueString"])
    return _clean_file_name("", str(attachment.get("title") or "document"), content_type)


def _clean_file_name(file_name: str, title: str, content_type: str) -> str:
    """A file name safe to send back in Content-Disposition: no path, no control
    characters, ASCII, the extension of its content type."""
    stem = PurePath(file_name.replace("\\", "/")).stem or title
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-.")[:100] or "document"
    return safe + _EXTENSIONS[content_type]
