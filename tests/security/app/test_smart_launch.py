"""A SMART standalone patient launch through the app, and what its DPoP-bound token reaches."""

from __future__ import annotations

import pytest

from hygie.security.context import PrincipalKind
from tests.conftest import backends
from tests.security.app.conftest import Hospital
from tests.security.app.flows import FHIR, SmartApp, sign_in_on_pages, standalone_launch

SCOPE = "openid fhirUser launch/patient patient/Observation.rs"


@pytest.fixture
def smart_app(hospital: Hospital) -> SmartApp:
    """Alice signs in on the pages (password, TOTP) and lets her phone app read her
    observations; the app holds a DPoP-bound token."""
    totp = hospital.with_totp(PrincipalKind.PATIENT, "alice", fhir_ref="Patient/p1")
    browser = hospital.client()
    sign_in_on_pages(browser, "alice", totp)
    return standalone_launch(browser, hospital.client(), SCOPE)


@backends
def test_the_launch_gives_a_dpop_token_for_her_own_record(smart_app: SmartApp) -> None:
    issued = smart_app.response
    assert issued["patient"] == "p1"
    assert sorted(issued["scope"].split()) == sorted(SCOPE.split())
    assert issued["token_type"] == "DPoP" and issued["id_token"]
    assert "no-store" in smart_app.token_cache_control
    assert smart_app.fhir("GET", "Observation/obs-p1").json()["subject"] == {
        "reference": "Patient/p1"
    }
    assert smart_app.ids("Observation") == ["Observation/obs-p1"]
    assert smart_app.ids("Observation", subject="Patient/p1") == ["Observation/obs-p1"]


@backends
def test_another_patients_observation_does_not_exist_for_her(smart_app: SmartApp) -> None:
    read = smart_app.fhir("GET", "Observation/obs-p2")
    assert read.status_code == 404
    assert "Patient/p2" not in read.text
    assert smart_app.ids("Observation", subject="Patient/p2") == []
    assert smart_app.ids("Observation", code="8867-4") == ["Observation/obs-p1"]


@backends
def test_the_scope_bounds_the_token(hospital: Hospital, smart_app: SmartApp) -> None:
    for path in ("Patient/p2", "Patient/p1", "DocumentReference/doc-b"):
        refused = smart_app.fhir("GET", path)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["resourceType"] == "OperationOutcome"
    write = smart_app.fhir(
        "POST",
        "Observation",
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "glycémie"},
            "subject": {"reference": "Patient/p1"},
        },
    )
    assert write.status_code == 403, write.text
    assert hospital.stored("Observation") == ["obs-p1", "obs-p2"]


@backends
def test_the_token_needs_its_dpop_proof_for_this_very_request(smart_app: SmartApp) -> None:
    url = f"{FHIR}/Observation/obs-p1"
    token = smart_app.token
    bearer = smart_app.http.get(url, headers={"authorization": f"Bearer {token}"})
    assert bearer.status_code == 401
    no_proof = smart_app.http.get(url, headers={"authorization": f"DPoP {token}"})
    assert no_proof.status_code == 401
    other_url = smart_app.dpop.proof("GET", f"{FHIR}/Observation/obs-p2", token=token)
    wrong = smart_app.http.get(url, headers={"authorization": f"DPoP {token}", "dpop": other_url})
    assert wrong.status_code == 401
    proof = smart_app.dpop.proof("GET", url, token=token)
    headers = {"authorization": f"DPoP {token}", "dpop": proof}
    assert smart_app.http.get(url, headers=headers).status_code == 200
    replayed = smart_app.http.get(url, headers=headers)
    assert replayed.status_code == 401
    assert "already used" in replayed.headers["www-authenticate"]
