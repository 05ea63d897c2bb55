"""The demo ships real PDFs in the demo patients' records, shared as MHD submissions."""

from __future__ import annotations

import re
import zlib

from hygie.demo import DEMO_SYSTEM, load_demo
from hygie.record.demo_documents import REPORTS, add_demo_documents
from hygie.record.documents import document_content, find_documents
from tests.conftest import backends
from tests.record.conftest import Clinic


@backends
def test_the_demo_patient_has_her_hospital_documents_as_pdfs(clinic: Clinic) -> None:
    store = clinic.app.state.security.store
    load_demo(store)
    assert (
        add_demo_documents(store) == f"demo documents: {len(REPORTS)} PDF added, 0 already present"
    )
    assert add_demo_documents(store).startswith("demo documents: 0 PDF added")  # idempotent

    system = clinic.system()
    [patient] = system.search_resources("Patient", [("identifier", f"{DEMO_SYSTEM}|patient-0")])
    documents = find_documents(system, patient["id"])
    assert {d.type_code for d in documents} == {"18842-5", "57833-6", "11502-2", "18748-4"}
    by_type = {d.type_code: d for d in documents}
    assert by_type["18842-5"].author_name == "Dr Claire Rousseau"
    assert by_type["18748-4"].author_name == "Dr Aurélie Fontaine"
    assert by_type["11502-2"].author_name == "CHU Hygie"
    name = f"{patient['name'][0]['given'][0]} {patient['name'][0]['family'].upper()}"
    for document in documents:
        content, content_type, file_name = document_content(system, document.id)
        assert content.startswith(b"%PDF-1.") and content.rstrip().endswith(b"%%EOF")
        assert (content_type, file_name[-4:]) == ("application/pdf", ".pdf")
        assert document.size == len(content)
    letter = page_text(document_content(system, by_type["18842-5"].id)[0])
    assert f" : {name}, n".encode("latin-1") in letter  # "Patient(e) : <name>, né(e) le"
    assert b"Coronarographie" in letter and b"Dr Claire Rousseau" in letter


def page_text(pdf: bytes) -> bytes:
    """The PDF's content streams, inflated (fpdf2 compresses them)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S)
    return b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x")
