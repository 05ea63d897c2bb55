"""Finding a patient from the professional portal: by INS or by traits, through the PEP
(only the patients the professional cares for are found)."""

from __future__ import annotations

from typing import Any

from tests.conftest import backends
from tests.web.conftest import DemoHospital, demo_resource, shown


def demo_patient(hospital: DemoHospital) -> dict[str, Any]:
    return demo_resource(hospital.app.state.store, "Patient", "patient-0")


@backends
def test_find_by_traits_and_by_ins(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    patient = demo_patient(hospital)
    name = patient["name"][0]
    link = f'href="/pro/patients/{hospital.patient_id}"'
    by_name = doctor.get("/pro", params={"nom": name["family"]})
    assert by_name.status_code == 200 and link in by_name.text
    by_traits = doctor.get(
        "/pro",
        params={
            "nom": name["family"],
            "prenom": name["given"][0],
            "naissance": patient["birthDate"],
        },
    )
    assert link in by_traits.text
    day, month, year = patient["birthDate"][8:], patient["birthDate"][5:7], patient["birthDate"][:4]
    typed = doctor.get("/pro", params={"nom": name["family"], "naissance": f"{day}/{month}/{year}"})
    assert link in typed.text
    ins = patient["identifier"][0]["value"]
    spaced = f"{ins[0]} {ins[1:3]} {ins[3:5]} {ins[5:7]} {ins[7:10]} {ins[10:13]} {ins[13:]}"
    by_ins = doctor.get("/pro", params={"ins": spaced})
    assert by_ins.status_code == 200 and link in by_ins.text
    assert spaced in shown(by_ins)  # shown formatted


@backends
def test_a_doctor_without_care_relationship_finds_nobody(hospital: DemoHospital) -> None:
    outsider = hospital.outsider()
    patient = demo_patient(hospital)
    found = outsider.get("/pro", params={"nom": patient["name"][0]["family"]})
    assert found.status_code == 200
    assert f"/pro/patients/{hospital.patient_id}" not in found.text
    assert "Aucun patient ne correspond" in shown(found)


def test_search_errors_are_named_next_to_their_field(hospital: DemoHospital) -> None:
    doctor = hospital.doctor()
    empty = doctor.get("/pro", params={"prenom": "Lucie"})
    assert empty.status_code == 400
    assert (
        'id="nom-erreur">Saisissez l\'INS du patient, ou au moins son nom de naissance.'
        in shown(empty)
    )
    bad_ins = doctor.get("/pro", params={"ins": "123"})
    assert bad_ins.status_code == 400
    assert 'id="ins-erreur">INS invalide' in shown(bad_ins)
    bad_date = doctor.get("/pro", params={"nom": "Martin", "naissance": "2999-01-01"})
    assert bad_date.status_code == 400
    assert 'id="naissance-erreur">' in bad_date.text
    form = doctor.get("/pro")
    assert form.status_code == 200 and "Résultats" not in form.text
