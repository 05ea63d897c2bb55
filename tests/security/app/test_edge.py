"""The edge in front of every route: no credentials, public routes, default deny, CSRF."""

from __future__ import annotations

from urllib.parse import quote

from hygie.security.context import Aal, PrincipalKind
from tests.apptest import backend_token
from tests.conftest import backends
from tests.security.app.conftest import Hospital
from tests.security.app.flows import ORIGIN


@backends
def test_fhir_without_credentials_is_401_with_an_operation_outcome(hospital: Hospital) -> None:
    http = hospital.client()
    for path in ("/fhir/Patient", "/fhir/Observation/obs-p1", "/fhir"):
        response = http.get(path)
        assert response.status_code == 401, path
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.json()["issue"][0]["code"] == "login"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "DPoP" in response.headers["www-authenticate"]
        assert "Martin" not in response.text
    written = http.post("/fhir/Observation", json={"resourceType": "Observation"})
    assert written.status_code == 401
    assert hospital.stored("Observation") == ["obs-p1", "obs-p2"]


@backends
def test_a_page_without_credentials_sends_the_browser_to_sign_in(hospital: Hospital) -> None:
    http = hospital.client()
    response = http.get(
        "/plan?destination=A-112", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?next=" + quote(
        "/plan?destination=A-112", safe=""
    )
    # An API asked for HTML is still an API: 401, never a redirection.
    api = http.get("/api/audit/mes-acces", headers={"accept": "text/html"})
    assert api.status_code == 401


@backends
def test_sign_in_discovery_health_and_capabilities_stay_public(hospital: Hospital) -> None:
    http = hospital.client()
    assert http.get("/health").json()["status"] == "ok"
    smart = http.get("/.well-known/smart-configuration")
    assert smart.status_code == 200
    assert smart.json()["token_endpoint"] == f"{ORIGIN}/oauth/token"
    metadata = http.get("/fhir/metadata")
    assert metadata.status_code == 200
    assert metadata.json()["resourceType"] == "CapabilityStatement"
    sign_in_page = http.get("/connexion")
    assert sign_in_page.status_code == 200 and "Mot de passe" in sign_in_page.text


@backends
def test_a_route_no_rule_maps_is_refused_even_to_signed_in_callers(hospital: Hospital) -> None:
    patient, _ = hospital.patient_alice()
    doctor, _ = hospital.professional("dr.un", "Practitioner/dr1", "Organization/o1")
    backend = hospital.client()
    backend.headers["authorization"] = f"Bearer {backend_token(backend)}"
    for http in (patient, doctor, backend):
        for method in ("GET", "POST"):
            response = http.request(method, "/api/unknown")
            assert response.status_code == 403, (method, response.text)
            assert response.json()["message"] == "no policy allows this route"
    # Without credentials, the same route asks for them first.
    assert hospital.client().get("/api/unknown").status_code == 401


@backends
def test_a_cookie_request_from_another_origin_is_refused_at_the_edge(hospital: Hospital) -> None:
    doctor, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2")
    body = {"patient": "Patient/p1", "motif": "patient inconscient aux urgences"}
    for origin in ("https://evil.example", "http://hygie.test", "null"):
        forged = doctor.post("/api/bris-de-glace", json=body, headers={"origin": origin})
        assert forged.status_code == 403, origin
        assert forged.json()["message"] == "cross-origin request refused"
    # No Origin and no Referer: refused too (a browser always sends one on a cross-site POST).
    del doctor.headers["origin"]
    assert doctor.post("/api/bris-de-glace", json=body).status_code == 403
    forged_write = doctor.post(
        "/fhir/Observation",
        json={"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        headers={"origin": "https://evil.example"},
    )
    assert forged_write.status_code == 403
    # Nothing happened: no grant, so dr2 still cannot read p1; nothing written.
    assert hospital.security.break_glass.active("Practitioner/dr2", "Patient/p1") is None
    assert hospital.stored("Observation") == ["obs-p1", "obs-p2"]
    # The same request from Hygie's own page passes the edge.
    doctor.headers["origin"] = ORIGIN
    assert doctor.post("/api/bris-de-glace", json=body).status_code == 201


@backends
def test_a_session_with_one_factor_reaches_no_health_data(hospital: Hospital) -> None:
    patient, _ = hospital.signed_in(
        PrincipalKind.PATIENT, "alice", aal=Aal.ONE, fhir_ref="Patient/p1"
    )
    for path in ("/fhir/Observation/obs-p1", "/fhir/Observation"):
        response = patient.get(path)
        assert response.status_code == 403
        assert response.json()["issue"][0]["diagnostics"] == (
            "from the internet, people need two authentication factors"
        )
        assert "8867-4" not in response.text
    assert patient.get("/api/audit/mes-acces").status_code == 403
