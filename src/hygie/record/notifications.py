"""The patient is told when a professional opens their record for the first time.

A task follows the audit log: it reads the entries after the last one it processed (its
cursor, ``record_notifier_cursor``), finds the first permitted FHIR access of each
professional to each patient's compartment, and writes the patient a FHIR
``Communication`` (French text, sender Hygie) as Hygie itself
(``SystemAccess(reason="first-access notification")``, audited like any system access).

Restart safe and idempotent: the pairs already seen are kept (``record_first_access``),
the Communication is a conditional create keyed on the pair, and the cursor moves only
after both; a batch interrupted half way is processed again without sending twice.
Break-the-glass accesses are already notified when the glass is broken
(security/breakglass_api.py): such a first access is recorded but not notified again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hygie.db.engine import Database
from hygie.fhir.access import SystemAccess
from hygie.fhir.router import FhirRouter
from hygie.http.caller_fhir import FhirCallError, FhirClient
from hygie.record.directory import Directory, Person
from hygie.record.tables import record_first_access, record_notifier_cursor
from hygie.security.audit.entry import ActorKind, AuditEntry, Outcome
from hygie.security.audit.service import AuditLog
from hygie.security.pep.audit import AuditSubmitter, system_audit

log = logging.getLogger("hygie.record.notifications")

REASON = "first-access notification"
IDENTIFIER_SYSTEM = "urn:hygie:first-access"
CATEGORY = "Premier accès à votre dossier"
CURSOR_ID = 1
DEFAULT_BATCH = 1000
DEFAULT_PERIOD_S = 10.0
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class _FirstAccess:
    patient: str
    actor: str
    index: int
    entry: AuditEntry


def notify_pending(
    db: Database,
    router: FhirRouter,
    log: AuditLog,
    audit: AuditSubmitter,
    *,
    batch: int = DEFAULT_BATCH,
) -> int:
    """Process the audit entries not yet seen, ``batch`` at a time until none is left;
    returns the number of notifications written (none twice, even when run again)."""
    sent = 0
    while True:
        with db.read() as conn:
            start = _cursor(conn)
            size, rows = log.entries_with_patient_after(start, limit=batch)
            firsts = _new_first_accesses(conn, rows)
        # The entries without a patient in between are skipped with the batch.
        end = rows[-1][0] + 1 if len(rows) == batch else size
        if end <= start:
            return sent
        directory = Directory(router)
        fhir = FhirClient(router, SystemAccess(reason=REASON, audit=system_audit(audit)))
        for first in firsts:
            if not first.entry.break_glass:
                sent += _send(fhir, first, directory.person(first.actor))
        with db.write() as conn:
            _remember(conn, db.dialect, firsts)
            _move_cursor(conn, db.dialect, end)
        if len(rows) < batch:
            return sent


async def run_first_access_notifier(
    app_state: Any, *, period: float = DEFAULT_PERIOD_S, batch: int = DEFAULT_BATCH
) -> None:
    """Run :func:`notify_pending` every ``period`` seconds until cancelled (app lifespan);
    the first run comes one period after start, the entries of the downtime with it."""
    while True:
        await asyncio.sleep(period)
        try:
            await asyncio.to_thread(
                notify_pending,
                app_state.database,
                app_state.fhir_router,
                app_state.security.audit_log,
                app_state.security.audit_sink,
                batch=batch,
            )
        except Exception:
            log.exception("first-access notifications failed; retrying at the next period")


def _new_first_accesses(
    conn: Connection, entries: Sequence[tuple[int, AuditEntry]]
) -> list[_FirstAccess]:
    """The first permitted access of each (patient, professional) pair not seen before."""
    firsts: dict[tuple[str, str], _FirstAccess] = {}
    for index, entry in entries:
        if (
            entry.actor.kind is ActorKind.PRACTITIONER
            and entry.family == "fhir"
            and entry.outcome is Outcome.PERMIT
            and entry.patient is not None
            and entry.actor.id.startswith("Practitioner/")
        ):
            pair = (entry.patient, entry.actor.id)
            firsts.setdefault(pair, _FirstAccess(*pair, index, entry))
    if not firsts:
        return []
    seen_table = record_first_access.c
    rows = conn.execute(
        select(seen_table.patient_ref, seen_table.actor_ref).where(
            tuple_(seen_table.patient_ref, seen_table.actor_ref).in_(list(firsts))
        )
    )
    seen = {(str(patient), str(actor)) for patient, actor in rows}
    return [first for pair, first in firsts.items() if pair not in seen]


def _send(fhir: FhirClient, first: _FirstAccess, person: Person) -> bool:
    """Write the notification unless it exists (an earlier run sent it): True if written."""
    who = person.name if person.name != person.ref else first.entry.actor.display or person.ref
    role = ", ".join(part for part in (person.profession, person.organisation) if part)
    when = first.entry.time.astimezone(PARIS)
    text = (
        f"{who}{f' ({role})' if role else ''} a ouvert votre dossier pour la première fois "
        f"le {when:%d/%m/%Y à %H:%M}. Si vous ne connaissez pas ce professionnel, vous "
        "pouvez le bloquer dans vos réglages de confidentialité."
    )
    key = f"{first.patient}:{first.actor}".replace("/", "-")
    communication = {
        "resourceType": "Communication",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": key}],
        "status": "completed",
        "category": [{"text": CATEGORY}],
        "subject": {"reference": first.patient},
        "recipient": [{"reference": first.patient}],
        "sender": {"display": "Hygie"},
        "about": [{"reference": first.actor, "display": who}],
        "sent": datetime.now(PARIS).isoformat(timespec="seconds"),
        "payload": [{"contentString": text}],
    }
    response = fhir.call(
        "POST",
        "Communication",
        body=orjson.dumps(communication),
        headers={
            "content-type": "application/fhir+json",
            "accept": "application/fhir+json",
            "if-none-exist": f"identifier={IDENTIFIER_SYSTEM}|{key}",
        },
    )
    if response.status >= 400:
        raise FhirCallError(response.status, orjson.loads(response.body))
    return response.status == 201


def _cursor(conn: Connection) -> int:
    value = conn.execute(
        select(record_notifier_cursor.c.next_index).where(record_notifier_cursor.c.id == CURSOR_ID)
    ).scalar_one_or_none()
    return int(value or 0)


def _insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _remember(conn: Connection, dialect: str, firsts: Sequence[_FirstAccess]) -> None:
    if not firsts:
        return
    rows = [
        {
            "patient_ref": f.patient,
            "actor_ref": f.actor,
            "first_index": f.index,
            "notified": not f.entry.break_glass,
        }
        for f in firsts
    ]
    conn.execute(_insert(dialect)(record_first_access).values(rows).on_conflict_do_nothing())


def _move_cursor(conn: Connection, dialect: str, end: int) -> None:
    statement = _insert(dialect)(record_notifier_cursor).values(id=CURSOR_ID, next_index=end)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"next_index": end},
            where=record_notifier_cursor.c.next_index < end,
        )
    )
