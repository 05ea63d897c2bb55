"""The document upload form (patient's own documents, professionals' reports) and the
response that hands a document's file to the browser."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from hygie.record.documents import ACCEPTED_CONTENT_TYPES, DOCUMENT_TYPES, MAX_DOCUMENT_BYTES
from hygie.web.render import FormErrors, size_fr
from hygie.web.uploads import (
    UploadedFile,
    UploadMalformed,
    UploadTooLarge,
    file_of,
    read_upload_form,
    text_of,
)

MAX_TITLE = 200
# Shown inline in the browser; anything else is downloaded (no HTML of ours to sniff).
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})


@dataclass
class DocumentForm:
    """The upload form as submitted: values to show back, the file, what is wrong."""

    title: str = ""
    type_code: str = ""
    csrf: str = ""
    file: UploadedFile | None = None
    errors: FormErrors = field(default_factory=FormErrors)
    status: int = 200


def accepted_label(*, pdf_only: bool = False) -> str:
    """``PDF, PNG ..., 10,0 Mo au plus`` for the form's hint."""
    types = {"application/pdf"} if pdf_only else ACCEPTED_CONTENT_TYPES
    extensions = sorted({(mimetypes.guess_extension(t) or t).lstrip(".").upper() for t in types})
    return ", ".join(extensions) + f", {size_fr(MAX_DOCUMENT_BYTES)} au plus"


async def receive_document_form(request: Request, *, pdf_only: bool = False) -> DocumentForm:
    """Read and check the form; ``status`` says how to answer when ``errors`` is not empty
    (413 too large, 415 wrong type, 400 anything else)."""
    form = DocumentForm()
    try:
        data = await read_upload_form(request, MAX_DOCUMENT_BYTES)
        form.title = text_of(data, "titre")
        form.type_code = text_of(data, "type")
        form.csrf = text_of(data, "csrf")
        form.file = await file_of(data, "fichier", MAX_DOCUMENT_BYTES)
    except UploadTooLarge:
        form.errors.add(
            "fichier", f"Le fichier est trop volumineux : {size_fr(MAX_DOCUMENT_BYTES)} au plus."
        )
        form.status = 413
        return form
    except UploadMalformed:
        form.errors.add("fichier", "Le formulaire envoyé est illisible : recommencez l'envoi.")
        form.status = 400
        return form
    if not form.title:
        form.errors.add("titre", "Donnez un titre au document.")
    elif len(form.title) > MAX_TITLE:
        form.errors.add("titre", f"Le titre ne doit pas dépasser {MAX_TITLE} caractères.")
    if form.type_code not in DOCUMENT_TYPES:
        form.errors.add("type", "Choisissez le type du document dans la liste.")
    if form.file is None or not form.file.content:
        form.errors.add("fichier", "Choisissez le fichier à envoyer.")
    else:
        allowed = {"application/pdf"} if pdf_only else ACCEPTED_CONTENT_TYPES
        if content_type_of(form.file) not in allowed:
            kinds = "un fichier PDF" if pdf_only else f"un fichier {accepted_label()}"
            form.errors.add("fichier", f"Ce type de fichier n'est pas accepté : envoyez {kinds}.")
            form.status = 415
    if form.errors and form.status == 200:
        form.status = 400
    return form


def content_type_of(upload: UploadedFile) -> str:
    """The type the browser sent, or the one of the file name when it sent a generic one."""
    declared = upload.content_type.split(";", 1)[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(upload.name)[0] or "application/octet-stream"


def file_response(content: bytes, content_type: str, file_name: str, *, download: bool) -> Response:
    inline = not download and content_type in INLINE_TYPES
    safe_name = re.sub(r"[^\w.\- ]", "_", file_name)[:120] or "document"
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(safe_name)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )
