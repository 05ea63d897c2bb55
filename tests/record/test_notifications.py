"""The patient is told of each professional's first access to her record, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from hygie.db.engine import Database
from hygie.record.notifications import (
    CATEGORY,
    notify_pending,
    run_first_access_notifier,
)
from hygie.record.tables import record_first_access, record_notifier_cursor
from hygie.record.timeline import build_timeline
from tests.conftest import backends
from tests.record.world import as_caller, open_hospital, system_fhir
from tests.security.app.conftest import Hospital

EMERGENCY = {"patient": "Patient/p1", "motif": "patiente inconsciente admise aux urgences"}


@pytest.fixture
def hospital(database: Database, tmp_path: Path) -> Iterator[Hospital]:
    yield from open_hospital(database, tmp_path)


def notify(hospital: Hospital, **options: Any) -> int:
    state = hospital.app.state
    security = state.security
    return notify_pending(
        state.database, state.fhir_router, security.audit_log, security.audit_sink, **options
    )


def first_access_notes(hospital: Hospital, patient: str = "Patient/p1") -> list[str]:
    found = system_fhir(hospital).search_resources("Communication", [("patient", patient)])
    return sorted(
        c["payload"][0]["contentString"]
        for c in found
        if c.get("category", [{}])[0].get("text") == CATEGORY
    )


@backends
def test_each_professionals_first_access_is_notified_once(hospital: Hospital) -> None:
    alice, _ = hospital.patient_alice()
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    dr3, _ = hospital.professional("dr.lambert", "Practitioner/dr3", "Organization/o1")
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    assert dr1.get("/fhir/DocumentReference/doc-a").status_code == 200
    assert dr2.get("/fhir/Patient/p1").status_code == 404  # refused: not an access
    assert alice.get("/fhir/Patient/p1").status_code == 200  # her own: not notified

    assert notify(hospital, batch=3) == 1  # small batches: the cursor moves batch by batch
    [note] = first_access_notes(hospital)
    assert note.startswith(
        "Dr Claire Rousseau (Cardiologue, CHU Une) a ouvert votre dossier pour la première fois"
    )
    assert notify(hospital) == 0
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    assert dr3.get("/fhir/Patient/p1").status_code == 200
    assert notify(hospital) == 1
    assert len(first_access_notes(hospital)) == 2
    assert first_access_notes(hospital, "Patient/p2") == []
    # The patient reads them in her timeline, as messages from Hygie.
    messages = as_caller(alice, lambda f: build_timeline(f, "p1", kinds=["Communication"]))
    assert {m.title for m in messages} == {f"Message — {CATEGORY}"}
    # Written as Hygie, for a named reason, in the audit log.
    log = hospital.security.audit_log
    reasons = [log.entry(i).reason for i in range(log.tree_head().tree_size)]
    assert "first-access notification (Communication)" in reasons


@backends
def test_break_the_glass_is_not_notified_twice(hospital: Hospital) -> None:
    dr2, _ = hospital.professional("dr.benali", "Practitioner/dr2", "Organization/o2")
    assert dr2.post("/api/bris-de-glace", json=EMERGENCY).status_code == 201
    assert dr2.get("/fhir/Patient/p1").status_code == 200
    assert notify(hospital) == 0  # the break-the-glass notification already told her
    found = system_fhir(hospital).search_resources("Communication", [("patient", "Patient/p1")])
    assert [c["category"][0]["text"] for c in found] == ["Bris de glace"]


@backends
def test_a_restart_from_scratch_sends_nothing_twice(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    assert dr1.get("/fhir/Patient/p1").status_code == 200
    assert notify(hospital) == 1
    with hospital.app.state.database.write() as conn:  # as if the progress had been lost
        conn.execute(delete(record_notifier_cursor))
        conn.execute(delete(record_first_access))
    assert notify(hospital) == 0
    assert len(first_access_notes(hospital)) == 1


@backends
def test_the_notifier_task_runs_in_the_background(hospital: Hospital) -> None:
    dr1, _ = hospital.professional("dr.rousseau", "Practitioner/dr1", "Organization/o1")
    assert dr1.get("/fhir/Patient/p1").status_code == 200

    async def run_until_notified() -> None:
        task = asyncio.create_task(run_first_access_notifier(hospital.app.state, period=0.05))
        try:
            for _ in range(200):
                if first_access_notes(hospital):
                    return
                await asyncio.sleep(0.05)
        finally:
            task.cancel()

    asyncio.run(run_until_notified())
    assert len(first_access_notes(hospital)) == 1
