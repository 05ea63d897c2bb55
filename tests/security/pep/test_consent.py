"""Consent and care relationship: blocked professionals, masked documents, their authors,
professionals without a care relationship, break-the-glass; and the side tables."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import insert, select

from hygie.db.engine import Database
from hygie.security.pep.tables import security_pep_blocked, security_pep_masked
from hygie.security.policy.tables import security_policy_break_glass
from tests.conftest import backends
from tests.security.pep.world import (
    DR1,
    DR2,
    DR3,
    DR4,
    P1,
    World,
    block,
    privacy_consent,
)

P1_RECORD = ["DocumentReference/doc-b", "Observation/obs-p1"]


@backends
def test_a_blocked_professional_sees_nothing_of_the_patient(world: World) -> None:
    assert world.get(DR1, "Observation/obs-p1").status == 200  # same organisation, not blocked
    assert world.get(DR4, "Observation/obs-p1").status == 404
    assert world.get(DR4, "Patient/p1").status == 404
    assert world.ids(DR4, "Observation") == []
    assert world.ids(DR4, "Patient") == []
    assert world.ids(DR4, "DocumentReference") == []
    assert world.ids(DR4, "Observation/_history") == []


@backends
def test_a_masked_document_is_absent_for_others_and_present_for_its_author(world: World) -> None:
    assert world.ids(DR1, "DocumentReference") == ["DocumentReference/doc-b"]
    assert world.get(DR1, "DocumentReference/doc-a").status == 404
    assert world.ids(DR1, "DocumentReference", subject="Patient/p1") == ["DocumentReference/doc-b"]
    # dr3 wrote doc-a: the mask does not hide it from them.
    assert world.get(DR3, "DocumentReference/doc-a").status == 200
    assert world.ids(DR3, "DocumentReference") == [
        "DocumentReference/doc-a",
        "DocumentReference/doc-b",
    ]
    # The patient themselves still sees it.
    assert world.get(P1, "DocumentReference/doc-a").status == 200


@backends
def test_no_care_relationship_no_access_until_break_the_glass(
    world: World, database: Database
) -> None:
    assert world.get(DR2, "Observation/obs-p1").status == 404
    assert world.ids(DR2, "Observation") == ["Observation/obs-p2"]  # their own patient
    with database.write() as conn:
        conn.execute(
            insert(security_policy_break_glass).values(
                id=uuid.uuid4().hex,
                actor_ref="Practitioner/dr2",
                account_id="Practitioner-dr2",
                patient_ref="Patient/p1",
                reason="urgence vitale",
                opened_at=int(time.time()),
                expires_at=int(time.time()) + 600,
            )
        )
    assert world.get(DR2, "Observation/obs-p1").status == 200
    assert "Observation/obs-p1" in world.ids(DR2, "Observation")


@backends
def test_consent_side_tables_follow_the_consent_resource(world: World, database: Database) -> None:
    def rows() -> tuple[set[str], set[str]]:
        with database.read() as conn:
            blocked = set(conn.execute(select(security_pep_blocked.c.actor_ref)).scalars())
            masked = set(conn.execute(select(security_pep_masked.c.document_ref)).scalars())
        return blocked, masked

    assert rows() == ({"Practitioner/dr4"}, {"DocumentReference/doc-a"})
    # The patient replaces their consent: now the whole of o1 is blocked, nothing masked.
    replaced = privacy_consent("consent-p1", "Patient/p1", block("Organization/o1"))
    assert world.call(P1, "PUT", "Consent/consent-p1", replaced).status == 200
    assert rows() == ({"Organization/o1"}, set())
    assert world.get(DR1, "Observation/obs-p1").status == 404
    assert world.get(DR3, "DocumentReference/doc-a").status == 404
    # Withdrawn: everything back.
    assert world.call(P1, "DELETE", "Consent/consent-p1").status == 204
    assert rows() == (set(), set())
    assert world.ids(DR1, "DocumentReference") == [
        "DocumentReference/doc-a",
        "DocumentReference/doc-b",
    ]


@backends
def test_a_consent_hygie_cannot_honour_is_refused_and_changes_nothing(
    world: World, database: Database
) -> None:
    bad = privacy_consent(
        "consent-p1",
        "Patient/p1",
        {"type": "deny", "actor": [{"role": {"text": "x"}, "reference": {"reference": "Group/g"}}]},
    )
    response = world.call(P1, "PUT", "Consent/consent-p1", bad)
    assert response.status == 422
    assert b"can only block a Practitioner or an Organization" in response.body
    assert world.get(DR4, "Observation/obs-p1").status == 404  # the old consent still holds
    assert world.get(DR1, "DocumentReference/doc-a").status == 404


@backends
def test_another_patients_consent_cannot_be_written(world: World) -> None:
    forged = privacy_consent("consent-p2", "Patient/p2", block("Practitioner/dr2"))
    assert world.call(P1, "PUT", "Consent/consent-p2", forged).status == 403
    assert world.get(DR2, "Observation/obs-p2").status == 200
