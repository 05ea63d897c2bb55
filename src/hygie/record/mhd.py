"""IHE MHD on FHIR R4: the Provide Document Bundle (ITI-65), built and checked.

Hygie plays the Document Recipient and Document Responder of the DMP. A document arrives
as one transaction Bundle holding a SubmissionSet (a ``List`` coded ``submissionset``), the
DocumentReference (its metadata: type, category, patient, author, date, and the content's
type, size and SHA-1) and the Binary the attachment url points at. Find Document References
(ITI-67) is the ordinary FHIR search on DocumentReference; Retrieve Document (ITI-68) is the
read of that Binary, raw, with its content type.

:func:`provide_bundle` builds the Bundle; :data:`PROVIDE_BUNDLE_CHECKS` holds
:func:`check_provide_bundle` under both ProvideBundle profiles, for the FHIR engine to run
on any Bundle that declares one (:meth:`hygie.fhir.bundles.BundleProcessor.add_profile_checks`).
A Bundle breaking a rule is refused with 422 naming the entry, before anything is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hygie.fhir.bundles import ProfileCheck
from hygie.fhir.errors import FhirError, Issue

MHD = "https://profiles.ihe.net/ITI/MHD"
COMPREHENSIVE_PROVIDE_BUNDLE = f"{MHD}/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle"
MINIMAL_PROVIDE_BUNDLE = f"{MHD}/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"
MINIMAL_SUBMISSION_SET = f"{MHD}/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"
MINIMAL_DOCUMENT_REFERENCE = f"{MHD}/StructureDefinition/IHE.MHD.Minimal.DocumentReference"
LIST_TYPES = f"{MHD}/CodeSystem/MHDlistTypes"
SOURCE_ID = f"{MHD}/StructureDefinition/ihe-sourceId"
LOINC = "http://loinc.org"
RFC3986 = "urn:ietf:rfc:3986"
# Hygie's own: the name of the file the document was given in (not part of XDS metadata).
FILE_NAME_EXTENSION = "https://hygie.example/fhir/StructureDefinition/file-name"
# The identifier of Hygie as the source of the submission sets it builds itself.
SOURCE_OID = "urn:oid:1.2.250.1.999.1.1"

ACCEPTED_CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "text/plain"})
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # leaves room for base64 under the 16 MiB body limit


@dataclass(frozen=True)
class Coded:
    code: str
    display: str

    def concept(self) -> dict[str, Any]:
        return {"coding": [{"system": LOINC, "code": self.code, "display": self.display}]}


@dataclass(frozen=True)
class NewDocument:
    """What one ITI-65 submission carries (the caller has checked the values)."""

    patient_ref: str
    author_ref: str
    author_name: str | None
    title: str
    type: Coded
    category: Coded
    content: bytes
    content_type: str
    file_name: str
    created: datetime
    replaces: dict[str, Any] | None = None  # the current DocumentReference it replaces


def provide_bundle(document: NewDocument) -> dict[str, Any]:
    """The ITI-65 transaction Bundle: SubmissionSet, DocumentReference, Binary, and the
    replaced DocumentReference set to ``superseded`` when the document replaces one."""
    list_url, doc_url, binary_url = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    when = document.created.isoformat()
    patient = document.patient_ref
    author = {"reference": document.author_ref}
    if document.author_name:
        author["display"] = document.author_name
    attachment: dict[str, Any] = {
        "contentType": document.content_type,
        "url": binary_url,
        "size": len(document.content),
        "hash": sha1_base64(document.content),
        "title": document.title,
        "creation": when,
        "extension": [{"url": FILE_NAME_EXTENSION, "valueString": document.file_name}],
    }
    reference: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "meta": {"profile": [MINIMAL_DOCUMENT_REFERENCE]},
        "masterIdentifier": {"system": RFC3986, "value": unique_id()},
        "identifier": [{"use": "official", "system": RFC3986, "value": doc_url}],
        "status": "current",
        "type": document.type.concept(),
        "category": [document.category.concept()],
        "subject": {"reference": patient},
        "date": when,
        "author": [author],
        "content": [{"attachment": attachment}],
    }
    entries = [
        _post(
            list_url,
            {
                "resourceType": "List",
                "meta": {"profile": [MINIMAL_SUBMISSION_SET]},
                "extension": [{"url": SOURCE_ID, "valueIdentifier": {"value": SOURCE_OID}}],
                "identifier": [
                    {"use": "official", "system": RFC3986, "value": list_url},
                    {"use": "usual", "system": RFC3986, "value": unique_id()},
                ],
                "status": "current",
                "mode": "working",
                "title": document.title,
                "code": {"coding": [{"system": LIST_TYPES, "code": "submissionset"}]},
                "subject": {"reference": patient},
                "date": when,
                "source": {"reference": document.author_ref},
                "entry": [{"item": {"reference": doc_url}}],
            },
        ),
        _post(doc_url, reference),
        _post(
            binary_url,
            {
                "resourceType": "Binary",
                "contentType": document.content_type,
                # The patient's compartment: their data key seals it, their consent rules it.
                "securityContext": {"reference": patient},
                "data": base64.b64encode(document.content).decode("ascii"),
            },
        ),
    ]
    if document.replaces is not None:
        old = document.replaces
        reference["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{old['id']}"}}
        ]
        version = old.get("meta", {}).get("versionId")
        request = {"method": "PUT", "url": f"DocumentReference/{old['id']}"}
        if version:
            request["ifMatch"] = f'W/"{version}"'
        entries.append({"resource": {**old, "status": "superseded"}, "request": request})
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [MINIMAL_PROVIDE_BUNDLE]},
        "type": "transaction",
        "timestamp": when,
        "entry": entries,
    }


def unique_id() -> str:
    """An XDS uniqueId: an OID under 2.25, the arc of UUID-derived OIDs (ISO/IEC 9834-8)."""
    return f"urn:oid:2.25.{uuid.uuid4().int}"


def sha1_base64(content: bytes) -> str:
    """Attachment.hash: the SHA-1 of the content, base64 (FHIR R4 and MHD say SHA-1)."""
    return base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode()


# -- the ProvideBundle rules ---------------------------------------------------------------
def check_provide_bundle(bundle: dict[str, Any]) -> None:
    """Raise a 422 FhirError naming the entry unless ``bundle`` meets the MHD rules Hygie
    relies on: one SubmissionSet listing every new DocumentReference, one patient
    everywhere, each attachment pointing at a Binary of the Bundle whose content type is
    accepted and whose size and SHA-1 are those the DocumentReference states."""
    if bundle.get("type") != "transaction":
        raise _refuse("Bundle.type", "a Provide Document Bundle is a transaction")
    entries = list(_entries(bundle))
    lists = [e for e in entries if e.type == "List" and _is_submission_set(e.resource)]
    if len(lists) != 1:
        raise _refuse("Bundle.entry", f"one SubmissionSet List is required, found {len(lists)}")
    submission = lists[0]
    patient = _reference(submission.resource.get("subject"))
    if patient is None:
        raise _refuse(submission.where("subject"), "the SubmissionSet needs its subject")
    listed = {
        _reference(item.get("item"))
        for item in submission.resource.get("entry") or []
        if isinstance(item, dict)
    }
    binaries = {e.full_url: e for e in entries if e.type == "Binary" and e.full_url}
    binaries.update({e.url: e for e in entries if e.type == "Binary" and e.method == "PUT"})
    referenced: set[str] = set()
    for entry in entries:
        if entry.type != "DocumentReference":
            continue
        if entry.method == "PUT" and entry.resource.get("status") == "superseded":
            continue  # a replaced document, updated with its replacement
        if entry.full_url not in listed:
            raise _refuse(entry.where(), "the DocumentReference is not in the SubmissionSet")
        if _reference(entry.resource.get("subject")) != patient:
            raise _refuse(entry.where("subject"), f"the subject must be {patient}, as the List's")
        if not _has_loinc(entry.resource.get("type")):
            raise _refuse(entry.where("type"), "the type must be coded with LOINC")
        referenced |= _check_contents(entry, binaries, patient)
    for binary in binaries.values():
        if binary.full_url not in referenced and binary.url not in referenced:
            raise _refuse(binary.where(), "the Binary is not the content of any DocumentReference")


@dataclass(frozen=True)
class _Entry:
    index: int
    method: str
    url: str
    full_url: str | None
    resource: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType"))

    def where(self, path: str = "") -> str:
        at = f"Bundle.entry[{self.index}].resource"
        return f"{at}.{path}" if path else at


def _entries(bundle: dict[str, Any]) -> Iterator[_Entry]:
    raw = bundle.get("entry")
    for index, entry in enumerate(raw if isinstance(raw, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(request, dict):
            continue  # the engine refuses malformed entries itself
        full_url = entry.get("fullUrl")
        yield _Entry(
            index,
            str(request.get("method")),
            str(request.get("url", "")).strip("/"),
            full_url if isinstance(full_url, str) else None,
            resource,
        )


def _check_contents(entry: _Entry, binaries: dict[str, _Entry], patient: str) -> set[str]:
    contents = entry.resource.get("content")
    if not isinstance(contents, list) or not contents:
        raise _refuse(entry.where("content"), "the DocumentReference has no content")
    urls: set[str] = set()
    for n, content in enumerate(contents):
        attachment = content.get("attachment") if isinstance(content, dict) else None
        at = entry.where(f"content[{n}].attachment")
        if not isinstance(attachment, dict):
            raise _refuse(at, "the content has no attachment")
        url = attachment.get("url")
        binary = binaries.get(url) if isinstance(url, str) else None
        if binary is None or not isinstance(url, str):
            raise _refuse(f"{at}.url", f"{url!r} is not a Binary of this Bundle")
        content_type = attachment.get("contentType")
        if content_type not in ACCEPTED_CONTENT_TYPES:
            accepted = ", ".join(sorted(ACCEPTED_CONTENT_TYPES))
            raise _refuse(f"{at}.contentType", f"{content_type!r} is not accepted ({accepted})")
        if binary.resource.get("contentType") != content_type:
            raise _refuse(f"{at}.contentType", "the Binary's contentType differs")
        context = _reference(binary.resource.get("securityContext"))
        if context is not None and context.startswith("Patient/") and context != patient:
            raise _refuse(binary.where("securityContext"), f"the patient must be {patient}")
        data = _decoded(binary)
        if len(data) > MAX_DOCUMENT_BYTES:
            raise _refuse(binary.where("data"), f"the document is over {MAX_DOCUMENT_BYTES} bytes")
        if "size" in attachment and attachment["size"] != len(data):
            raise _refuse(
                f"{at}.size", f"size {attachment['size']} but the Binary has {len(data)} bytes"
            )
        if "hash" in attachment and attachment["hash"] != sha1_base64(data):
            raise _refuse(f"{at}.hash", "the hash is not the SHA-1 of the Binary's data")
        urls.add(url)
    return urls


def _decoded(binary: _Entry) -> bytes:
    data = binary.resource.get("data")
    if not isinstance(data, str):
        raise _refuse(binary.where("data"), "the Binary has no data")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(binary.where("data"), "the Binary's data is not base64") from None


def _is_submission_set(resource: dict[str, Any]) -> bool:
    codings = (resource.get("code") or {}).get("coding") or []
    return any(
        isinstance(c, dict) and c.get("system") == LIST_TYPES and c.get("code") == "submissionset"
        for c in codings
    )


def _has_loinc(concept: object) -> bool:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return any(
        isinstance(c, dict) and c.get("system") == LOINC and c.get("code") for c in codings or []
    )


def _reference(value: object) -> str | None:
    """``Type/id`` of a reference, whether relative or absolute (``.../fhir/Patient/1``)."""
    ref = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(ref, str):
        return None
    if ref.startswith("urn:"):
        return ref
    parts = ref.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:])


def _refuse(where: str, why: str) -> FhirError:
    return FhirError(
        422, Issue("business-rule", f"IHE MHD Provide Document Bundle: {where}: {why}", (where,))
    )


PROVIDE_BUNDLE_CHECKS: dict[str, ProfileCheck] = {
    COMPREHENSIVE_PROVIDE_BUNDLE: check_provide_bundle,
    MINIMAL_PROVIDE_BUNDLE: check_provide_bundle,
}


def _post(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }
