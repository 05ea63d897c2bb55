"""``POST /api/bris-de-glace``: a professional opens a patient's record in an emergency.

The PDP decides ``break-glass.open`` on the patient's facts (a blocked professional cannot
break the glass; the patient may refuse emergency access altogether); the service then
checks the reason, the second factor and its freshness, stores the time-limited grant,
audits it and notifies the patient with a FHIR Communication.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from hygie.db.engine import Database
from hygie.fhir.access import SystemAccess
from hygie.fhir.store import FhirStore
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.edge import context_of
from hygie.security.pep.facts import load_facts
from hygie.security.policy import BreakGlassGrant, BreakGlassRefused, BreakGlassService
from hygie.security.policy.model import DecisionPoint, ResourceFacts

MAX_BODY = 4096


def breakglass_router(
    db: Database,
    service: BreakGlassService,
    pdp: DecisionPoint,
    *,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    router = APIRouter()

    @router.post("/api/bris-de-glace")
    async def open_record(request: Request) -> JSONResponse:
        ctx = context_of(request.scope)
        if ctx is None:
            return _error(401, "authentification requise")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error(413, f"requête de plus de {MAX_BODY} octets")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "le corps doit être un objet JSON {patient, motif}")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("patient", "motif")
        ):
            return _error(400, "le corps doit être un objet JSON {patient, motif}")
        patient, reason = body["patient"], body["motif"]
        return await run_in_threadpool(_open, ctx, patient, reason)

    def _open(ctx: RequestContext, patient: str, reason: str) -> JSONResponse:
        decision = pdp.decide(
            ctx, "break-glass.open", breakglass_facts(db, ctx, patient, int(clock()))
        )
        if not decision.allowed:
            return _error(403, decision.reason)
        try:
            grant = service.open(ctx, patient, reason)
        except BreakGlassRefused as refused:
            return _error(403, str(refused))
        return JSONResponse(
            {
                "patient": grant.patient_ref,
                "expire": datetime.fromtimestamp(grant.expires_at, UTC).isoformat(),
            },
            status_code=201,
        )

    return router


def breakglass_facts(db: Database, ctx: RequestContext, patient: str, now: int) -> ResourceFacts:
    """The facts the PDP decides `break-glass.open` on (the API and the portal form)."""
    principal = ctx.principal
    callers = frozenset(r for r in (principal.fhir_ref, principal.organization_ref) if r)
    if principal.kind is not PrincipalKind.PRACTITIONER or not patient.startswith("Patient/"):
        return ResourceFacts("Patient", patient_ref=patient)
    with db.read() as conn:
        facts = load_facts(
            conn,
            caller_refs=callers,
            actor_ref=principal.fhir_ref,
            patients=[patient],
            documents=[],
            now=now,
        )
    return ResourceFacts(
        "Patient",
        patient_ref=patient,
        care_relationship=patient in facts.care,
        blocked=patient in facts.blocked,
        emergency_forbidden=patient in facts.no_emergency,
        break_glass_grant=patient in facts.grants,
    )


def emergency_forbidden_in(db: Database) -> Callable[[str], bool]:
    """Whether the patient's consents refuse break-the-glass access (the PEP's side table)."""
    from sqlalchemy import select

    from hygie.security.pep.tables import security_pep_no_emergency as refusals

    def forbidden(patient_ref: str) -> bool:
        with db.read() as conn:
            found = conn.execute(
                select(refusals.c.patient_ref).where(refusals.c.patient_ref == patient_ref).limit(1)
            ).first()
        return found is not None

    return forbidden


def notify_patient(store: FhirStore) -> Callable[[str, BreakGlassGrant], None]:
    """Tell the patient of an emergency access: a Communication in their record."""

    def notify(patient_ref: str, grant: BreakGlassGrant) -> None:
        opened = datetime.fromtimestamp(grant.opened_at, UTC)
        text = (
            f"Accès en urgence (bris de glace) à votre dossier par {grant.actor_ref} "
            f"le {opened:%d/%m/%Y à %H:%M} UTC. Motif : {grant.reason}"
        )
        store.create(
            {
                "resourceType": "Communication",
                "status": "completed",
                "category": [{"text": "Bris de glace"}],
                "subject": {"reference": patient_ref},
                "recipient": [{"reference": patient_ref}],
                "sender": {"reference": grant.actor_ref},
                "sent": opened.isoformat(),
                "payload": [{"contentString": text}],
            },
            guard=SystemAccess(reason="break-the-glass notification"),
        )

    return notify


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"erreur": message}, status_code=status)
