"""The patient's pages: timeline filters, profile entries, forms' validation in French."""

from __future__ import annotations

import re

from tests.conftest import backends
from tests.security.app.flows import csrf_of
from tests.web.conftest import DemoHospital, shown


def timeline_kinds(html: str) -> set[str]:
    """The kinds of the timeline's items, as the page labels them."""
    return set(re.findall(r"</time> — ([^<]+)</p>", html))


@backends
def test_the_home_page_shows_the_journey_and_filters_it(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    home = patient.get("/espace")
    assert home.status_code == 200
    assert {"Consultations et séjours", "Mesures et résultats", "Rendez-vous"} <= timeline_kinds(
        shown(home)
    )
    only = patient.get("/espace", params={"type": "Encounter"})
    assert timeline_kinds(shown(only)) == {"Consultations et séjours"}
    assert 'value="Encounter" checked' in only.text
    future = patient.get("/espace", params={"depuis": "2999-01-01"})
    assert "Aucun événement pour ces critères." in shown(future)


def test_a_bad_period_is_named_next_to_its_field(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    wrong = patient.get("/espace", params={"depuis": "31/02/2024", "jusqua": "2020-01-01"})
    assert wrong.status_code == 400
    text = shown(wrong)
    assert 'id="depuis-erreur">Date invalide : saisissez-la au format JJ/MM/AAAA.' in text
    assert '<a href="#depuis">' in text  # the summary links to the field
    reversed_period = patient.get(
        "/espace", params={"depuis": "2025-02-01", "jusqua": "2025-01-01"}
    )
    assert "La fin de la période doit suivre son début." in shown(reversed_period)


@backends
def test_the_patient_adds_an_allergy_to_their_profile(hospital: DemoHospital) -> None:
    patient, doctor = hospital.patient(), hospital.doctor()
    page = patient.get("/espace/profil")
    assert page.status_code == 200
    for title in ("Allergies", "Traitements en cours", "Vaccinations", "Mesures", "Antécédents"):
        assert f">{title}</h2>" in shown(page)
    added = patient.post(
        "/espace/profil/allergies",
        data={
            "substance": "Pénicilline",
            "reaction": "Urticaire",
            "gravite": "moderee",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    after = shown(patient.get(added.headers["location"]))
    assert "L'information a été ajoutée au profil médical." in after
    assert "Pénicilline" in after and "Urticaire" in after
    # The doctor who cares for her sees it in her record.
    assert "Pénicilline" in shown(doctor.get(f"/pro/patients/{hospital.patient_id}/profil"))


def test_a_refused_profile_entry_is_explained_and_nothing_is_stored(hospital: DemoHospital) -> None:
    patient = hospital.patient()
    page = patient.get("/espace/profil")
    before = len(hospital.stored("Observation"))
    refused = patient.post(
        "/espace/profil/mesures",
        data={"mesure": "poids", "valeur": "abc", "csrf": csrf_of(page.text)},
    )
    assert refused.status_code == 400
    text = shown(refused)
    message = "Poids : « abc » n'est pas un nombre (exemple : 72,5)."
    assert f'id="mesures-valeur-erreur">{message}' in text
    assert f'<a href="#mesures-valeur">{message}' in text
    assert "<details open>" in text and 'value="abc"' in text  # the form stays filled
    assert len(hospital.stored("Observation")) == before


def test_a_doctor_adds_a_measurement_to_the_record(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    path = f"/pro/patients/{hospital.patient_id}/profil"
    page = doctor.get(path)
    added = doctor.post(
        f"{path}/mesures",
        data={
            "mesure": "tension",
            "systolique": "135",
            "diastolique": "85",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert "135/85 mmHg" in shown(doctor.get(added.headers["location"]))


def test_hiding_a_document_of_someone_else_is_refused_with_a_reason(
    hospital: DemoHospital,
) -> None:
    patient = hospital.patient()
    page = patient.get("/espace/documents")
    other = hospital.stored("DocumentReference")
    foreign = next(
        d["id"] for d in other if d["subject"]["reference"] != f"Patient/{hospital.patient_id}"
    )
    refused = patient.post(
        f"/espace/documents/{foreign}/masquer", data={"csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 400
    assert "Ce document est introuvable dans votre dossier." in shown(refused)
    assert 'href="/espace/documents"' in refused.text
    consents = hospital.stored("Consent", ("patient", f"Patient/{hospital.patient_id}"))
    assert consents == []
