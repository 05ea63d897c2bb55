"""Documents through the portals, the whole app on SQLite and PostgreSQL: a doctor uploads a
discharge summary, the patient reads it and hides it; a colleague no longer finds it (the
author still does: a hidden document stays visible to its author, as the issue asks)."""

from __future__ import annotations

import re

import httpx
from starlette.testclient import TestClient

from tests.conftest import backends
from tests.security.app.flows import csrf_of
from tests.web.conftest import DemoHospital, pdf_bytes, shown

TITLE = "Lettre de liaison de sortie de cardiologie"


def upload(
    browser: TestClient,
    path: str,
    *,
    content: bytes,
    file_name: str = "lettre.pdf",
    content_type: str = "application/pdf",
    title: str = TITLE,
    type_code: str = "18842-5",
    csrf: str | None = None,
) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of(browser.get(path).text)
    return browser.post(
        path,
        data={"titre": title, "type": type_code, "csrf": token},
        files={"fichier": (file_name, content, content_type)},
        follow_redirects=False,
    )


def document_id(html: str, title: str) -> str:
    match = re.search(r'/documents/([A-Za-z0-9\-.]+)/fichier">' + re.escape(title) + "<", html)
    assert match, f"no document {title!r} on the page"
    return match.group(1)


@backends
def test_upload_read_hide(hospital: DemoHospital) -> None:
    doctor, patient, nurse = hospital.doctor(), hospital.patient(), hospital.nurse()
    record = f"/pro/patients/{hospital.patient_id}/documents"
    pdf = pdf_bytes("Sortie le 28/11")

    sent = upload(doctor, record, content=pdf)
    assert sent.status_code == 303 and sent.headers["location"].endswith("?fait=ajoute-pro")
    page = doctor.get(sent.headers["location"])
    assert "Le document a été ajouté au dossier du patient." in shown(page)
    assert TITLE in shown(page)
    assert TITLE in shown(nurse.get(record))

    mine = patient.get("/espace/documents")
    assert mine.status_code == 200
    doc_id = document_id(mine.text, TITLE)
    opened = patient.get(f"/espace/documents/{doc_id}/fichier")
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"].startswith("inline")
    assert opened.content == pdf
    downloaded = patient.get(f"/espace/documents/{doc_id}/fichier?telecharger=1")
    assert downloaded.headers["content-disposition"].startswith("attachment")

    hidden = patient.post(
        f"/espace/documents/{doc_id}/masquer",
        data={"csrf": csrf_of(mine.text)},
        follow_redirects=False,
    )
    assert hidden.status_code == 303
    after = patient.get(hidden.headers["location"])
    assert "Le document est maintenant masqué" in shown(after)
    assert "Masqué aux professionnels" in shown(after)

    assert TITLE not in shown(nurse.get(record))
    gone = nurse.get(f"{record}/{doc_id}/fichier")
    assert gone.status_code == 404 and "introuvable" in shown(gone)
    assert TITLE in shown(doctor.get(record))  # its author still sees it

    visible = patient.post(
        f"/espace/documents/{doc_id}/afficher",
        data={"csrf": csrf_of(after.text)},
        follow_redirects=False,
    )
    assert visible.status_code == 303
    assert TITLE in shown(nurse.get(record))


@backends
def test_the_patient_adds_their_own_document(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    sent = upload(
        patient,
        "/espace/documents",
        content=b"Tension le matin : 12/8\n",
        file_name="tension.txt",
        content_type="text/plain",
        title="Mon carnet de tension",
        type_code="51855-5",
    )
    assert sent.status_code == 303, sent.text
    page = patient.get("/espace/documents")
    assert "Mon carnet de tension" in shown(page)
    doc_id = document_id(page.text, "Mon carnet de tension")
    assert (
        patient.get(f"/espace/documents/{doc_id}/fichier").content == b"Tension le matin : 12/8\n"
    )


def test_wrong_type_is_415_and_nothing_is_stored(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    record = f"/pro/patients/{hospital.patient_id}/documents"
    before = len(hospital.stored("DocumentReference"))
    refused = upload(
        doctor,
        record,
        content=b"\x89PNG\r\n\x1a\n....",
        file_name="x.png",
        content_type="image/png",
    )
    assert refused.status_code == 415
    assert "Ce type de fichier n'est pas accepté : envoyez un fichier PDF." in shown(refused)
    assert 'href="#fichier"' in shown(refused)  # the error summary links to the field
    assert 'aria-invalid="true"' in shown(refused)
    disguised = upload(doctor, record, content=b"MZ not a pdf", file_name="x.pdf")
    assert disguised.status_code == 400
    assert "ne correspond pas à son format" in shown(disguised)
    assert len(hospital.stored("DocumentReference")) == before


def test_too_large_is_413_before_reading_it_whole(hospital: DemoHospital) -> None:
    from hygie.record.documents import MAX_DOCUMENT_BYTES

    doctor = hospital.doctor()
    record = f"/pro/patients/{hospital.patient_id}/documents"
    before = len(hospital.stored("DocumentReference"))
    big = b"%PDF-1.4\n" + b"0" * (MAX_DOCUMENT_BYTES + 100 * 1024)
    refused = upload(doctor, record, content=big)
    assert refused.status_code == 413
    assert "Le fichier est trop volumineux : 10 Mo au plus." in shown(refused)
    assert len(hospital.stored("DocumentReference")) == before


def test_missing_fields_are_named_next_to_them(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    record = f"/pro/patients/{hospital.patient_id}/documents"
    refused = upload(doctor, record, content=pdf_bytes(), title="", type_code="pas-un-type")
    assert refused.status_code == 400
    assert 'id="titre-erreur">Donnez un titre au document.' in shown(refused)
    assert 'id="type-erreur">Choisissez le type du document dans la liste.' in shown(refused)


def test_a_form_without_its_csrf_token_is_refused(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    record = f"/pro/patients/{hospital.patient_id}/documents"
    before = len(hospital.stored("DocumentReference"))
    refused = upload(doctor, record, content=pdf_bytes(), csrf="faux")
    assert refused.status_code == 403
    assert "Formulaire refusé" in shown(refused)
    assert len(hospital.stored("DocumentReference")) == before
