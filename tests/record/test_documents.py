"""Shared documents through the FhirClient of a signed-in person (what the portals call):
add, find, open, replace, the patient's own documents, masking, and every refusal."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
import pytest

from hygie.fhir.access import SystemAccess
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirCallError
from hygie.record.documents import (
    MAX_DOCUMENT_BYTES,
    DocumentError,
    DocumentSummary,
    document_content,
    find_documents,
    provide_document,
    read_document,
)
from hygie.record.mhd import LIST_TYPES
from tests.conftest import backends
from tests.record.conftest import PDF, Clinic


def discharge(clinic: Clinic, who: str = "dr1", **changes: Any) -> DocumentSummary:
    values: dict[str, Any] = {
        "patient_id": "p1",
        "author_ref": "Practitioner/dr1",
        "title": "Lettre de liaison de sortie",
        "type_code": "18842-5",
        "content": PDF,
        "content_type": "application/pdf",
        "file_name": "C:\\Mes documents\\lettre sortie Martin.pdf",
    }
    values.update(changes)
    return provide_document(clinic.fhir(who), **values)


@backends
def test_a_professional_shares_a_document_the_patient_finds_and_opens(clinic: Clinic) -> None:
    shared = discharge(clinic)
    assert (shared.title, shared.type_code, shared.status) == (
        "Lettre de liaison de sortie",
        "18842-5",
        "current",
    )
    assert shared.type_label.startswith("Lettre de liaison de sortie")
    assert (shared.author_ref, shared.author_name) == ("Practitioner/dr1", "Dr Anne Un")
    assert (shared.content_type, shared.size) == ("application/pdf", len(PDF))

    [found] = find_documents(clinic.fhir("p1"), "p1")
    assert found == shared
    assert read_document(clinic.fhir("p1"), shared.id) == shared
    content, content_type, file_name = document_content(clinic.fhir("p1"), shared.id)
    assert (content, content_type, file_name) == (
        PDF,
        "application/pdf",
        "lettre-sortie-Martin.pdf",
    )
    # A colleague of the same organisation finds it too; the other patient does not.
    assert [d.id for d in find_documents(clinic.fhir("dr3"), "p1")] == [shared.id]
    assert find_documents(clinic.fhir("p2"), "p1") == []


@backends
def test_the_submission_is_an_mhd_provide_bundle(clinic: Clinic) -> None:
    shared = discharge(clinic)
    system = clinic.system()
    reference = system.read("DocumentReference", shared.id)
    assert reference["status"] == "current"
    assert reference["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "18842-5",
        "display": "Discharge summary",
    }
    assert reference["category"][0]["coding"][0]["system"] == "http://loinc.org"
    assert reference["subject"] == {"reference": "Patient/p1"}
    assert reference["masterIdentifier"]["value"].startswith("urn:oid:2.25.")
    attachment = reference["content"][0]["attachment"]
    assert attachment["url"] == f"Binary/{shared.binary_id}"
    expected_hash = base64.b64encode(hashlib.sha1(PDF, usedforsecurity=False).digest()).decode()
    assert (attachment["size"], attachment["hash"]) == (len(PDF), expected_hash)
    [submission] = system.search_resources("List", [("subject", "Patient/p1")])
    assert submission["code"]["coding"][0] == {"system": LIST_TYPES, "code": "submissionset"}
    assert submission["entry"] == [{"item": {"reference": f"DocumentReference/{shared.id}"}}]
    assert {i["use"] for i in submission["identifier"]} == {"official", "usual"}
    assert submission["source"] == {"reference": "Practitioner/dr1"}


@backends
def test_the_content_is_encrypted_at_rest_under_the_patients_key(clinic: Clinic) -> None:
    shared = discharge(clinic)
    assert shared.binary_id is not None
    raw = clinic.raw("Binary", shared.binary_id)
    for leak in (PDF, b"angioplastie", base64.b64encode(PDF)):
        assert leak not in raw
    sealed = orjson.loads(raw)
    assert sealed["_data"]["extension"][0]["valueString"] == "Patient/p1"


@backends
def test_a_patient_adds_their_own_document(clinic: Clinic) -> None:
    own = provide_document(
        clinic.fhir("p1"),
        patient_id="p1",
        author_ref="Patient/p1",
        title="Mon carnet de vaccination",
        type_code="51855-5",
        content=b"Vaccins : DTP 2019, grippe 2025\n",
        content_type="text/plain",
        file_name="vaccins.txt",
    )
    assert (own.author_ref, own.author_name) == ("Patient/p1", "Alice Martin")
    assert [d.id for d in find_documents(clinic.fhir("dr1"), "p1")] == [own.id]
    assert document_content(clinic.fhir("dr1"), own.id)[0] == b"Vaccins : DTP 2019, grippe 2025\n"
    # A patient adds to their own record only.
    with pytest.raises(DocumentError, match="propre dossier"):
        provide_document(
            clinic.fhir("p1"),
            patient_id="p2",
            author_ref="Patient/p1",
            title="Intrus",
            type_code="51855-5",
            content=b"x",
            content_type="text/plain",
            file_name="x.txt",
        )
    with pytest.raises(FhirCallError) as refused:
        provide_document(
            clinic.fhir("p1"),
            patient_id="p2",
            author_ref="Patient/p2",
            title="Intrus",
            type_code="51855-5",
            content=b"x",
            content_type="text/plain",
            file_name="x.txt",
        )
    assert refused.value.status == 403
    assert find_documents(clinic.fhir("p2"), "p2") == []


@backends
def test_replacing_a_document_supersedes_the_old_one_which_stays_readable(clinic: Clinic) -> None:
    first = discharge(clinic)
    corrected = PDF.replace(b"angioplastie", b"angioplastie + stent")
    second = discharge(
        clinic, title="Lettre de liaison (corrigée)", content=corrected, replaces=first.id
    )
    assert second.replaces == first.id
    fhir = clinic.fhir("p1")
    assert [d.id for d in find_documents(fhir, "p1")] == [second.id]
    both = find_documents(fhir, "p1", include_superseded=True)
    assert {d.id: d.status for d in both} == {first.id: "superseded", second.id: "current"}
    old = read_document(fhir, first.id)
    assert (old.status, old.replaced_by) == ("superseded", second.id)
    assert document_content(fhir, first.id)[0] == PDF
    assert document_content(fhir, second.id)[0] == corrected
    # Replacing needs the current version, by its author.
    with pytest.raises(DocumentError, match="déjà été remplacé"):
        discharge(clinic, replaces=first.id)
    with pytest.raises(DocumentError, match="auteur"):
        discharge(clinic, who="dr3", author_ref="Practitioner/dr3", replaces=second.id)
    assert clinic.counts() == (2, 2, 2)


@backends
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type_code": "00000-0"}, "Type de document inconnu"),
        ({"content_type": "application/zip"}, "format de fichier"),
        ({"content_type": "text/html"}, "format de fichier"),
        ({"content": b"MZ\x90\x00 not a pdf"}, "ne correspond pas"),
        ({"content": b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES}, "taille maximale"),
        ({"content": b""}, "vide"),
        ({"title": "   "}, "titre"),
        ({"author_ref": "Device/x"}, "Auteur"),
        ({"replaces": "nope"}, "introuvable"),
        ({"content_type": "text/plain", "content": b"\xff\xfe latin"}, "UTF-8"),
    ],
)
def test_a_bad_document_is_refused_in_french_with_nothing_stored(
    clinic: Clinic, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(DocumentError, match=message):
        discharge(clinic, **changes)
    assert clinic.counts() == (0, 0, 0)


@backends
def test_a_professional_without_care_relationship_cannot_share(clinic: Clinic) -> None:
    with pytest.raises(FhirCallError) as refused:
        discharge(clinic, who="dr2", author_ref="Practitioner/dr2")
    assert refused.value.status == 403
    assert clinic.counts() == (0, 0, 0)
    shared = discharge(clinic)
    assert find_documents(clinic.fhir("dr2"), "p1") == []
    with pytest.raises(DocumentError, match="introuvable"):
        document_content(clinic.fhir("dr2"), shared.id)


def mask(clinic: Clinic, patient: str, document_id: str) -> None:
    """The patient's privacy Consent masking one document (security/policy/consent.py)."""
    consent = {
        "resourceType": "Consent",
        "id": f"privacy-{patient}",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "provision": {
            "type": "permit",
            "provision": [
                {
                    "type": "deny",
                    "data": [
                        {
                            "meaning": "instance",
                            "reference": {"reference": f"DocumentReference/{document_id}"},
                        }
                    ],
                }
            ],
        },
    }
    clinic.app.state.security.store.update(
        "Consent", consent["id"], consent, guard=SystemAccess(reason="tests: the patient masks")
    )


@backends
def test_a_masked_document_is_not_found_by_other_professionals(clinic: Clinic) -> None:
    masked = discharge(clinic)
    visible = discharge(clinic, title="Compte rendu de consultation", type_code="11488-4")
    mask(clinic, "p1", masked.id)
    assert [d.id for d in find_documents(clinic.fhir("dr3"), "p1")] == [visible.id]
    with pytest.raises(DocumentError, match="introuvable"):
        read_document(clinic.fhir("dr3"), masked.id)
    # Its author and the patient still see it.
    assert {d.id for d in find_documents(clinic.fhir("dr1"), "p1")} == {masked.id, visible.id}
    assert {d.id for d in find_documents(clinic.fhir("p1"), "p1")} == {masked.id, visible.id}


@backends
def test_documents_are_filtered_by_type_newest_first(clinic: Clinic) -> None:
    letter = discharge(clinic)
    lab = discharge(clinic, title="Bilan lipidique", type_code="11502-2")
    fhir = clinic.fhir("p1")
    assert [d.id for d in find_documents(fhir, "p1")] == [lab.id, letter.id]
    assert [d.id for d in find_documents(fhir, "p1", type_code="11502-2")] == [lab.id]
    assert find_documents(fhir, "p1", type_code="18748-4") == []


@backends
def test_every_page_of_documents_is_read(clinic: Clinic) -> None:
    made = [discharge(clinic, title=f"Compte rendu {n}").id for n in range(3)]
    # The same store and enforcement point, on a server that pages by two.
    small_pages = FhirRouter(
        clinic.app.state.store, fhir_base="http://hygie.test/fhir", max_count=2
    )
    found = find_documents(clinic.fhir("p1", small_pages), "p1")
    assert [d.id for d in found] == made[::-1]
