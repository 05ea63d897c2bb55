"""Break-the-glass grants on SQLite and PostgreSQL: checks, expiry, audit, notification."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygie.db.engine import Database
from hygie.security.audit import AuditLog, Outcome, load_signer
from hygie.security.context import Aal
from hygie.security.policy import BreakGlassGrant, BreakGlassRefused, BreakGlassService
from tests.conftest import backends
from tests.security.policy.helpers import NOW, PATIENT, context, doctor

REASON = "Patient inconscient aux urgences, antécédents inconnus"


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(database: Database, tmp_path: Path) -> AuditLog:
    return AuditLog(database, load_signer({}, data_dir=tmp_path, allow_generate=True))


@backends
def test_open_grant_expires_and_is_audited_and_notified(
    database: Database, audit: AuditLog, clock: Clock
) -> None:
    notified: list[tuple[str, BreakGlassGrant]] = []
    service = BreakGlassService(
        database,
        duration=1800,
        audit=audit,
        clock=clock,
        notify=lambda patient, grant: notified.append((patient, grant)),
    )
    grant = service.open(doctor(), "Patient/p2", f"  {REASON} ")
    assert (grant.actor_ref, grant.patient_ref, grant.reason) == (
        "Practitioner/d1",
        "Patient/p2",
        REASON,
    )
    assert grant.expires_at == NOW + 1800
    assert notified == [("Patient/p2", grant)]
    assert service.active("Practitioner/d1", "Patient/p2") == grant
    assert service.active("Practitioner/d1", "Patient/p3") is None
    assert service.active("Practitioner/d9", "Patient/p2") is None
    [(_, entry)] = audit.entries_for_patient("Patient/p2")
    assert entry.action == "consent.break-glass"
    assert entry.outcome is Outcome.SUCCESS and entry.break_glass
    assert entry.actor.id == "Practitioner/d1" and entry.reason == REASON
    clock.now += 1799
    assert service.active("Practitioner/d1", "Patient/p2") == grant
    clock.now += 1
    assert service.active("Practitioner/d1", "Patient/p2") is None


@backends
def test_refused_when_the_patient_forbids_emergency_access(
    database: Database, audit: AuditLog, clock: Clock
) -> None:
    notified: list[str] = []
    service = BreakGlassService(
        database,
        audit=audit,
        clock=clock,
        emergency_forbidden=lambda patient: patient == "Patient/p2",
        notify=lambda patient, grant: notified.append(patient),
    )
    with pytest.raises(BreakGlassRefused, match="refused emergency access"):
        service.open(doctor(), "Patient/p2", REASON)
    assert service.active("Practitioner/d1", "Patient/p2") is None
    assert notified == []
    [(_, entry)] = audit.entries_for_patient("Patient/p2")
    assert entry.outcome is Outcome.FAILURE and entry.break_glass
    assert service.open(doctor(), "Patient/p3", REASON).patient_ref == "Patient/p3"


@backends
@pytest.mark.parametrize(
    ("ctx", "patient", "reason", "message"),
    [
        (context(PATIENT), "Patient/p2", REASON, "only a health professional"),
        (doctor(), "Observation/o1", REASON, "is not a Patient reference"),
        (doctor(), "Patient/p2", "   urgence    ", "reason must be 15 to 1000"),
        (doctor(), "Patient/p2", "x" * 1001, "reason must be 15 to 1000"),
        (doctor(aal=Aal.ONE), "Patient/p2", REASON, "two authentication factors"),
        (doctor(auth_age=301), "Patient/p2", REASON, "less than 5 minutes"),
    ],
)
def test_refusals_change_nothing(
    database: Database, clock: Clock, ctx: object, patient: str, reason: str, message: str
) -> None:
    service = BreakGlassService(database, clock=clock)
    with pytest.raises(BreakGlassRefused, match=message):
        service.open(ctx, patient, reason)  # type: ignore[arg-type]
    assert service.active("Practitioner/d1", patient) is None
