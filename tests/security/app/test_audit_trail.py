"""What the audit log holds after requests through the app, and that it verifies."""

from __future__ import annotations

import base64

from hygie.security.audit import AuditLog
from hygie.security.audit.entry import Outcome
from hygie.security.audit.signing import DEV_KEY_NAME, read_key_file
from hygie.security.audit.verify import verify_log
from hygie.security.context import PrincipalKind
from tests.conftest import backends
from tests.security.app.conftest import Hospital
from tests.security.app.flows import sign_in_on_pages, standalone_launch


@backends
def test_a_patient_sees_her_apps_read_in_her_access_history(hospital: Hospital) -> None:
    totp = hospital.with_totp(PrincipalKind.PATIENT, "alice", fhir_ref="Patient/p1")
    browser = hospital.client()
    sign_in_on_pages(browser, "alice", totp)
    app = standalone_launch(browser, hospital.client(), "launch/patient patient/Observation.rs")
    assert app.fhir("GET", "Observation/obs-p1").status_code == 200

    history = browser.get("/api/audit/mes-acces")
    assert history.status_code == 200, history.text
    reads = [e for e in history.json()["entries"] if e["action"] == "fhir.read"]
    [read] = [e for e in reads if e["resource"] == "Observation/obs-p1"]
    assert read["outcome"] == "permit"
    assert read["actor"] == {"kind": "patient", "id": "Patient/p1", "display": "alice"}
    assert read["client_id"] == app.client_id
    assert read["patient"] == "Patient/p1"
    # Bruno's record is not in her history, and she cannot ask for it.
    assert all(e["patient"] == "Patient/p1" for e in history.json()["entries"])
    other = browser.get("/api/audit/mes-acces", params={"patient": "Patient/p2"})
    assert other.status_code == 403

    # The whole log recomputes and its signed tree heads verify with Hygie's audit key.
    signer = read_key_file(hospital.data_dir / "keys" / DEV_KEY_NAME)  # the demo's key
    report = verify_log(hospital.app.state.database, signer.verifier)
    assert report.ok, report.problem
    assert report.tree_size >= read["index"] + 1
    # The entry shown is the one the log holds at that index: its inclusion proof checks.
    sth = browser.get("/api/audit/sth").json()
    proof = browser.get(
        "/api/audit/proof/inclusion",
        params={"index": read["index"], "tree_size": sth["tree_size"]},
    ).json()
    assert AuditLog.verify_inclusion(
        base64.b64decode(read["leaf"]),
        read["index"],
        sth["tree_size"],
        [base64.b64decode(node) for node in proof["inclusion_path"]],
        base64.b64decode(sth["sha256_root_hash"]),
    )


@backends
def test_denials_are_logged_with_the_policy_that_decided(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr2, _ = hospital.professional("dr.deux", "Practitioner/dr2", "Organization/o2")
    assert alice.get("/fhir/Observation/obs-p2").status_code == 404
    assert dr2.get("/fhir/Observation/obs-p1").status_code == 404
    log = hospital.security.audit_log

    def denials(patient: str) -> list[tuple[str, str | None, str | None]]:
        return [
            (e.actor.id, e.action, e.policy_id)
            for _, e in log.entries_for_patient(patient)
            if e.outcome is Outcome.DENY
        ]

    assert ("Patient/p1", "fhir.read", "patient-own-compartment-only") in denials("Patient/p2")
    [(actor, action, policy)] = denials("Patient/p1")
    assert (actor, action) == ("Practitioner/dr2", "fhir.read")
    assert policy  # default deny names itself too, never an anonymous refusal
