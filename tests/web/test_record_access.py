"""Opening a record from the professional portal: care relationship, refusals, break-the-glass,
and the patient's privacy choices taking effect (the whole app, SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

from hygie.security.context import Aal
from tests.conftest import backends
from tests.security.app.flows import csrf_of
from tests.web.conftest import DemoHospital, shown

REASON = "Patiente inconsciente admise aux urgences, antécédents cardiaques à vérifier"


@backends
def test_a_doctor_who_cares_for_the_patient_opens_the_record(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    page = doctor.get(f"/pro/patients/{hospital.patient_id}")
    assert page.status_code == 200
    assert '<h1 id="nom-patient">' in shown(page)
    assert "Consultations et séjours" in shown(page)  # the timeline's filters
    assert "Mesures et résultats" in shown(page)
    assert page.headers["cache-control"] == "no-store"
    profile = doctor.get(f"/pro/patients/{hospital.patient_id}/profil")
    assert profile.status_code == 200


@backends
def test_a_refusal_explains_and_break_the_glass_opens_the_record(hospital: DemoHospital) -> None:
    outsider = hospital.outsider()
    record = f"/pro/patients/{hospital.patient_id}"
    refused = outsider.get(record)
    assert refused.status_code == 404  # the PEP hides existence; the page still explains
    assert "Accès au dossier refusé" in shown(refused)
    assert "aucune relation de soins" in shown(refused)
    assert f'href="{record}/bris-de-glace"' in shown(refused)

    form = outsider.get(f"{record}/bris-de-glace")
    assert form.status_code == 200 and '<label for="motif">' in shown(form)
    short = outsider.post(
        f"{record}/bris-de-glace", data={"motif": "urgence", "csrf": csrf_of(form.text)}
    )
    assert short.status_code == 400
    assert 'id="motif-erreur">Indiquez le motif' in shown(short)

    opened = outsider.post(
        f"{record}/bris-de-glace",
        data={"motif": REASON, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"{record}?fait=urgence"
    now_open = outsider.get(opened.headers["location"])
    assert now_open.status_code == 200
    assert "Accès en urgence ouvert pour une heure" in shown(now_open)
    assert "Accès en urgence ouvert jusqu'au" in shown(now_open)
    assert "Accès en urgence ouvert jusqu'au" not in shown(hospital.doctor().get(record))

    # The patient is told, and the access history flags it.
    notices = hospital.stored("Communication", ("subject", f"Patient/{hospital.patient_id}"))
    assert any("bris de glace" in str(c).lower() for c in notices)


def test_break_the_glass_asks_for_a_fresh_second_factor(hospital: DemoHospital) -> None:
    outsider = hospital.outsider()
    record = f"/pro/patients/{hospital.patient_id}"
    form = outsider.get(f"{record}/bris-de-glace")
    security = hospital.app.state.security
    # Make the session's authentication ten minutes old.
    from sqlalchemy import update

    from hygie.security.sessions.tables import security_sessions_session as security_session

    with hospital.app.state.database.write() as conn:
        conn.execute(update(security_session).values(auth_time=int(time.time()) - 600))
    asked = outsider.post(
        f"{record}/bris-de-glace",
        data={"motif": REASON, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/connexion/second-facteur?next=/pro/patients/")
    assert (
        security.break_glass.active(hospital.outsider_ref, f"Patient/{hospital.patient_id}") is None
    )


@backends
def test_blocking_a_doctor_and_forbidding_emergency_access(hospital: DemoHospital) -> None:
    patient, doctor, outsider = hospital.patient(), hospital.doctor(), hospital.outsider()
    record = f"/pro/patients/{hospital.patient_id}"
    page = patient.get("/espace/confidentialite?recherche=Rousseau")
    assert "Dr Claire Rousseau" in shown(page) and "Cardiologue" in shown(page)
    blocked = patient.post(
        "/espace/confidentialite/bloquer",
        data={
            "acteur": hospital.cardiologist_ref,
            "nom": "Dr Claire Rousseau",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert blocked.status_code == 303
    settings = patient.get(blocked.headers["location"])
    assert "Ce professionnel ne peut plus accéder à votre dossier." in shown(settings)
    assert "Dr Claire Rousseau" in shown(settings)
    assert doctor.get(record).status_code in (403, 404)

    unblocked = patient.post(
        "/espace/confidentialite/debloquer",
        data={"acteur": hospital.cardiologist_ref, "csrf": csrf_of(settings.text)},
        follow_redirects=False,
    )
    assert unblocked.status_code == 303
    assert doctor.get(record).status_code == 200

    forbid = patient.post(
        "/espace/confidentialite/urgence",
        data={"interdire": "oui", "csrf": csrf_of(settings.text)},
        follow_redirects=False,
    )
    assert forbid.status_code == 303
    assert "Vous avez interdit cet accès." in shown(patient.get(forbid.headers["location"]))
    form = outsider.get(f"{record}/bris-de-glace")
    refused = outsider.post(
        f"{record}/bris-de-glace", data={"motif": REASON, "csrf": csrf_of(form.text)}
    )
    assert refused.status_code == 403
    assert "refusé" in shown(refused)
    assert outsider.get(record).status_code == 404


def test_each_space_turns_the_other_kind_of_person_away(hospital: DemoHospital) -> None:
    patient, doctor = hospital.patient(), hospital.doctor()
    on_pro = patient.get("/pro")
    assert on_pro.status_code == 403
    assert "Portail réservé aux professionnels de santé" in shown(on_pro)
    assert 'href="/espace"' in shown(on_pro)
    on_space = doctor.get("/espace/documents")
    assert on_space.status_code == 403
    assert "Espace réservé aux patients" in shown(on_space)


def test_home_sends_each_person_to_their_space(hospital: DemoHospital) -> None:
    assert hospital.patient().get("/", follow_redirects=False).headers["location"] == "/espace"
    assert hospital.doctor().get("/", follow_redirects=False).headers["location"] == "/pro"
    assert hospital.browser().get("/", follow_redirects=False).headers["location"] == "/connexion"


def test_without_a_second_factor_the_pages_ask_for_it(hospital: DemoHospital) -> None:
    patient = hospital.patient(aal=Aal.ONE)
    page = patient.get("/espace/documents", follow_redirects=False)
    assert page.status_code == 403
    assert "Connexion renforcée nécessaire" in shown(page)
    assert "/connexion/second-facteur?next=/espace/documents" in shown(page)


def test_an_unknown_record_is_a_page_not_a_trace(hospital: DemoHospital) -> None:
    doctor, patient = hospital.doctor(), hospital.patient()
    assert doctor.get("/pro/patients/inconnu").status_code == 404
    bad = doctor.get("/pro/patients/pas%20un%20id")
    assert bad.status_code == 404 and "Dossier introuvable" in shown(bad)
    missing = patient.get("/espace/documents/inconnu/fichier")
    assert missing.status_code == 404 and "<h1>" in shown(missing)


@backends
def test_the_access_history_names_who_opened_the_record(hospital: DemoHospital) -> None:
    patient, doctor, outsider = hospital.patient(), hospital.doctor(), hospital.outsider()
    assert doctor.get(f"/pro/patients/{hospital.patient_id}/documents").status_code == 200
    record = f"/pro/patients/{hospital.patient_id}"
    form = outsider.get(f"{record}/bris-de-glace")
    opened = outsider.post(
        f"{record}/bris-de-glace",
        data={"motif": REASON, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = patient.get("/espace/acces")
    assert page.status_code == 200
    text = shown(page)
    rows = re.findall(r"<tr>.*?</tr>", text, flags=re.S)
    rousseau = [r for r in rows if "Dr Claire Rousseau" in r]
    assert rousseau and all("Cardiologue" in r and "vérifiée" in r for r in rousseau)
    assert any("Consultation" in r and "votre fiche d'identité" in r for r in rousseau)
    urgent = [r for r in rows if "Bris de glace" in r]
    assert urgent and "Ailleurs" in urgent[0] and REASON in urgent[0]
    assert "/api/audit/proof/inclusion?index=" in text


def test_the_archive_holds_the_record_and_its_documents(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    archive = patient.get("/espace/archive")
    assert archive.status_code == 200
    assert archive.headers["content-disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        names = opened.namelist()
        bundle = json.loads(opened.read("dossier.json"))
    assert "README.txt" in names
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "Observation"} <= types
    assert all(
        e["resource"].get("subject", {}).get("reference", f"Patient/{hospital.patient_id}")
        == f"Patient/{hospital.patient_id}"
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
    )


def test_the_portal_pages_sign_out_with_the_sessions_token(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    page = patient.get("/espace")
    out = patient.post("/deconnexion", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/connexion"
    again = patient.get("/espace", headers={"accept": "text/html"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/connexion")


def test_the_stylesheet_is_public_and_local(hospital: DemoHospital) -> None:
    css = hospital.browser().get("/static/portail/portail.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    page = hospital.patient().get("/espace")
    assert "http" not in re.sub(r'href="/[^"]*"', "", page.text.split("<body>")[0])
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
