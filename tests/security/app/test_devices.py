"""Devices as principals: a tag or a monitor signs in with its own key (private_key_jwt),
acts as its FHIR Device, and is decided on its posture, through the whole app."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from click.testing import CliRunner
from joserfc.jwk import ECKey
from sqlalchemy import update

from hygie.security.audit.entry import ActorKind, AuditEntry, Outcome
from hygie.security.oauth.authenticator import STATE_TTL
from hygie.security.oauth.cli import clients
from hygie.security.oauth.client_auth import ASSERTION_TYPE
from hygie.security.oauth.clients import Client, ClientKind, Posture
from hygie.security.oauth.tables import security_oauth_client
from tests.apptest import backend_token
from tests.conftest import backends
from tests.security.app.conftest import Hospital, ref
from tests.security.oauth.helpers import Clock, assertion


class Tag:
    """A tracked pump and the device client its tag signs in as."""

    def __init__(self, hospital: Hospital, tag_id: str, scope: str = "system/Observation.c"):
        asset = hospital.app.state.tracking.register_asset(tag_id, "infusion-pump", tag_id)
        self.tag_id = tag_id
        self.device_ref = f"Device/{asset.device_id}"
        self.key = ECKey.generate_key("P-384")
        public = self.key.as_dict(private=False) | {"kid": self.key.thumbprint()}
        self.client, secret = hospital.security.oauth.clients.create(
            f"Étiquette {tag_id}",
            ClientKind.DEVICE,
            scopes=scope.split(),
            jwks={"keys": [public]},
            device_ref=self.device_ref,
        )
        assert secret is None and self.client.posture is Posture.UNKNOWN
        self.http = hospital.client()
        self.scope = scope

    def sign_in(self) -> httpx.Response:
        signed = assertion(self.key, "ES384", self.client.id, Clock())
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": signed,
        }
        return self.http.post("/oauth/token", data=form)

    def signed_in(self) -> Tag:
        answer = self.sign_in()
        assert answer.status_code == 200, answer.text
        self.http.headers["authorization"] = f"Bearer {answer.json()['access_token']}"
        return self

    def report(self, tag_id: str | None = None) -> httpx.Response:
        body = position(datetime.now(UTC).isoformat())
        return self.http.post(f"/api/location/tags/{tag_id or self.tag_id}/reports", json=body)

    def record_heart_rate(self, device: str | None = None) -> httpx.Response:
        """A heart rate of Alice's, from this device unless ``device`` names another."""
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": ref("Patient/p1"),
            "device": ref(device or self.device_ref),
            "valueQuantity": {"value": 72, "unit": "/min"},
        }
        return self.http.post("/fhir/Observation", json=observation)


def position(t: str) -> dict[str, Any]:
    return {"t": t, "position": {"building": "A", "level": 3, "x": 5, "y": 5, "uncertainty_m": 2}}


def audit_entries(hospital: Hospital) -> list[AuditEntry]:
    log = hospital.security.audit_log
    return [log.entry(i) for i in range(log.tree_head().tree_size)]


def set_posture(hospital: Hospital, client: Client, posture: Posture) -> None:
    hospital.security.oauth.clients.set_posture(client.id, posture)


@backends
def test_a_device_reports_its_own_tag_and_no_other(hospital: Hospital) -> None:
    pump = Tag(hospital, "PUMP-1").signed_in()
    other = Tag(hospital, "PUMP-2")

    assert pump.report().status_code == 202
    refused = pump.report(other.tag_id)
    assert refused.status_code == 403, refused.text
    assert pump.report("GHOST").status_code == 403  # an unknown tag tells it nothing more
    batch = {"reports": [{"tag": pump.tag_id, **position(datetime.now(UTC).isoformat())}]}
    assert pump.http.post("/api/location/reports", json=batch).status_code == 403

    reports = [e for e in audit_entries(hospital) if e.action == "location.write"]
    by_device = {(e.resource, e.outcome) for e in reports if e.actor.id == pump.device_ref}
    assert by_device >= {(pump.device_ref, Outcome.PERMIT), (other.device_ref, Outcome.DENY)}
    assert all(e.actor.kind is ActorKind.DEVICE for e in reports)
    [permit] = [e for e in reports if e.outcome is Outcome.PERMIT]
    assert permit.policy_id == "device-own-location" and permit.client_id == pump.client.id

    # A backend service reports any tag, as before.
    backend = hospital.client()
    backend.headers["authorization"] = f"Bearer {backend_token(backend, 'system/Device.u')}"
    report = position(datetime.now(UTC).isoformat())
    assert backend.post("/api/location/tags/PUMP-2/reports", json=report).status_code == 202


@backends
def test_a_device_reads_no_patient(hospital: Hospital) -> None:
    monitor = Tag(hospital, "MON-1", scope="system/Observation.c").signed_in()
    set_posture(hospital, monitor.client, Posture.COMPLIANT)
    assert monitor.http.get("/fhir/Patient/p1").status_code == 403
    assert (
        monitor.http.get("/fhir/Observation", params={"subject": "Patient/p1"}).status_code == 403
    )
    [denial] = [
        e
        for e in audit_entries(hospital)
        if e.action == "fhir.read" and e.actor.id == monitor.device_ref
    ]
    assert denial.outcome is Outcome.DENY and denial.actor.kind is ActorKind.DEVICE


@backends
def test_a_device_in_unknown_posture_records_no_telemetry(hospital: Hospital) -> None:
    monitor = Tag(hospital, "MON-1").signed_in()
    refused = monitor.record_heart_rate()
    assert refused.status_code == 403, refused.text
    assert hospital.stored("Observation") == ["obs-p1", "obs-p2"]
    [denial] = [
        e
        for e in audit_entries(hospital)
        if e.action == "fhir.create" and e.actor.id == monitor.device_ref
    ]
    assert denial.outcome is Outcome.DENY and denial.policy_id
    # Signing in is on the device's record too.
    issued = [e for e in audit_entries(hospital) if e.action == "token.issue"]
    assert [(e.actor.kind, e.actor.id) for e in issued] == [(ActorKind.DEVICE, monitor.device_ref)]


# The policy permits it (tests/security/policy/test_device_posture.py); the enforcement
# point does not yet read Observation.device as the observation's author.
@backends
def test_a_compliant_device_records_its_own_telemetry(hospital: Hospital) -> None:
    monitor = Tag(hospital, "MON-1").signed_in()
    set_posture(hospital, monitor.client, Posture.COMPLIANT)
    created = monitor.record_heart_rate()
    assert created.status_code == 201, created.text
    other = Tag(hospital, "MON-2")
    assert monitor.record_heart_rate(device=other.device_ref).status_code == 403
    assert len(hospital.stored("Observation")) == 3


@backends
def test_quarantine_cuts_a_device_off(hospital: Hospital) -> None:
    pump = Tag(hospital, "PUMP-1").signed_in()
    set_posture(hospital, pump.client, Posture.COMPLIANT)
    assert pump.report().status_code == 202

    # `hygie clients posture` on the same database, in this process: refused at once.
    env = {
        "HYGIE_DATABASE_URL": hospital.app.state.database.engine.url.render_as_string(
            hide_password=False
        ),
        "HYGIE_DATA_DIR": str(hospital.data_dir),
        "HYGIE_MODE": "demo",
    }
    done = CliRunner().invoke(clients, ["posture", pump.client.id, "quarantined"], env=env)
    assert done.exit_code == 0, done.output
    refused = pump.report()
    assert refused.status_code == 403 and "quarantined" in refused.text
    assert pump.sign_in().status_code == 200  # it may sign in, and still do nothing
    assert pump.http.get("/plan").status_code == 403
    [change] = [e for e in audit_entries(hospital) if e.action == "admin.client.posture"]
    assert change.resource == pump.device_ref and "quarantined" in (change.reason or "")

    # Another process's change (no notice in this one) holds within the cache bound.
    with hospital.app.state.database.write() as conn:
        conn.execute(
            update(security_oauth_client)
            .where(security_oauth_client.c.id == pump.client.id)
            .values(posture=Posture.COMPLIANT.value)
        )
    time.sleep(STATE_TTL + 0.1)
    assert pump.report().status_code == 202


@backends
def test_a_device_never_uses_a_secret(hospital: Hospital) -> None:
    pump = Tag(hospital, "PUMP-1")
    secret_post = {
        "grant_type": "client_credentials",
        "scope": "system/Observation.c",
        "client_id": pump.client.id,
        "client_secret": "anything",
    }
    refused = pump.http.post("/oauth/token", data=secret_post)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "private_key_jwt" in refused.json()["error_description"]
    answer = hospital.client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "system/Observation.c"},
        auth=(pump.client.id, "anything"),
    )
    assert answer.status_code == 401
    assert pump.sign_in().status_code == 200
