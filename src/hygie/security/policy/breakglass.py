"""Break-the-glass: a professional opens a patient's record in an emergency.

The opening needs a practitioner with two factors authenticated in the last five minutes
and a written reason; it is refused when the patient forbade emergency access. The grant
lasts ``duration`` seconds and lets the policies permit reads without care relationship
(flagged in the audit log). Every attempt is audited, and the patient is notified of each
opening through the ``notify`` hook.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from hygie.db.engine import Database
from hygie.security.audit import Actor, ActorKind, AuditEntry, AuditLog, Outcome
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.policy.errors import BreakGlassRefused
from hygie.security.policy.tables import security_policy_break_glass as grants

MIN_REASON = 15
MAX_REASON = 1000
FRESH_AUTH_SECONDS = 300  # as the policy "sensitive-needs-fresh-authentication"
AUDIT_ACTION = "consent.break-glass"
BREAK_GLASS_PURPOSE = "BTG"  # v3 ActReason "break the glass"
_PATIENT = re.compile(r"Patient/[A-Za-z0-9\-.]{1,64}")


@dataclass(frozen=True, slots=True)
class BreakGlassGrant:
    id: str
    actor_ref: str  # "Practitioner/pr1"
    patient_ref: str
    reason: str
    opened_at: int  # epoch seconds
    expires_at: int


class BreakGlassService:
    def __init__(
        self,
        db: Database,
        *,
        duration: int = 3600,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
        emergency_forbidden: Callable[[str], bool] | None = None,
        notify: Callable[[str, BreakGlassGrant], None] | None = None,
    ) -> None:
        """``emergency_forbidden(patient_ref)`` tells whether the patient's consent refuses
        emergency access (the consent tables); ``notify(patient_ref, grant)`` tells the
        patient of an opening, after it is stored."""
        if duration <= 0:
            raise ValueError("the break-the-glass duration must be positive")
        self._db = db
        self._duration = duration
        self._audit = audit
        self._clock = clock
        self._emergency_forbidden = emergency_forbidden
        self._notify = notify

    def open(self, ctx: RequestContext, patient_ref: str, reason: str) -> BreakGlassGrant:
        """Open a grant; :class:`BreakGlassRefused` (audited) with the cause otherwise."""
        now = int(self._clock())
        reason = reason.strip()
        try:
            actor_ref = self._check(ctx, patient_ref, reason, now)
        except BreakGlassRefused as refusal:
            self._record(ctx, patient_ref, str(refusal), Outcome.FAILURE, now)
            raise
        grant = BreakGlassGrant(
            uuid.uuid4().hex, actor_ref, patient_ref, reason, now, now + self._duration
        )
        with self._db.write() as conn:
            conn.execute(
                grants.insert().values(
                    id=grant.id,
                    actor_ref=grant.actor_ref,
                    account_id=ctx.principal.id,
                    patient_ref=grant.patient_ref,
                    reason=grant.reason,
                    opened_at=grant.opened_at,
                    expires_at=grant.expires_at,
                )
            )
        self._record(ctx, patient_ref, reason, Outcome.SUCCESS, now)
        if self._notify is not None:
            self._notify(patient_ref, grant)
        return grant

    def active(self, actor_ref: str, patient_ref: str) -> BreakGlassGrant | None:
        """The unexpired grant of the actor on the patient that lasts longest, if any."""
        with self._db.read() as conn:
            row = conn.execute(
                select(grants)
                .where(
                    grants.c.actor_ref == actor_ref,
                    grants.c.patient_ref == patient_ref,
                    grants.c.expires_at > int(self._clock()),
                )
                .order_by(grants.c.expires_at.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return BreakGlassGrant(
            row.id, row.actor_ref, row.patient_ref, row.reason, row.opened_at, row.expires_at
        )

    def _check(self, ctx: RequestContext, patient_ref: str, reason: str, now: int) -> str:
        principal = ctx.principal
        if principal.kind is not PrincipalKind.PRACTITIONER or principal.fhir_ref is None:
            raise BreakGlassRefused("only a health professional can break the glass")
        if not _PATIENT.fullmatch(patient_ref):
            raise BreakGlassRefused(f"{patient_ref!r} is not a Patient reference")
        if not MIN_REASON <= len(reason) <= MAX_REASON:
            raise BreakGlassRefused(
                f"the reason must be {MIN_REASON} to {MAX_REASON} characters long"
            )
        if ctx.aal < Aal.TWO:
            raise BreakGlassRefused("breaking the glass needs two authentication factors")
        if ctx.auth_age(now) > FRESH_AUTH_SECONDS:
            raise BreakGlassRefused(
                f"breaking the glass needs an authentication of less than "
                f"{FRESH_AUTH_SECONDS // 60} minutes"
            )
        if self._emergency_forbidden is not None and self._emergency_forbidden(patient_ref):
            raise BreakGlassRefused("the patient refused emergency access to their record")
        return principal.fhir_ref

    def _record(
        self, ctx: RequestContext, patient_ref: str, reason: str, outcome: Outcome, now: int
    ) -> None:
        if self._audit is None:
            return
        principal = ctx.principal
        kind = (
            ActorKind.PRACTITIONER
            if principal.kind is PrincipalKind.PRACTITIONER and principal.fhir_ref
            else ActorKind.USER
        )
        self._audit.append(
            AuditEntry(
                time=datetime.fromtimestamp(now, UTC),
                actor=Actor(kind, principal.fhir_ref or principal.id, principal.display),
                action=AUDIT_ACTION,
                outcome=outcome,
                policy_id="break-glass-service",
                patient=patient_ref if _PATIENT.fullmatch(patient_ref) else None,
                client_id=ctx.client_id,
                network_zone=ctx.network_zone,
                purpose_of_use=BREAK_GLASS_PURPOSE,
                break_glass=True,
                reason=reason,
            )
        )
