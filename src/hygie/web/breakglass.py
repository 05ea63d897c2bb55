"""The break-the-glass form's handling: the same PDP decision and service as the API.

``POST /api/bris-de-glace`` decides ``break-glass.open`` on the patient's facts, then lets
:class:`BreakGlassService` check and store the grant; the form does exactly that, with the
same functions. What the form adds: French messages next to the field, and a fresh second
factor asked for before the attempt rather than refused after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hygie.db.engine import Database
from hygie.security.breakglass_api import breakglass_facts
from hygie.security.context import RequestContext
from hygie.security.policy import BreakGlassRefused
from hygie.security.policy.breakglass import FRESH_AUTH_SECONDS, MAX_REASON, MIN_REASON
from hygie.security.services import Security
from hygie.web.render import FormErrors

REASON_FIELD = "motif"


@dataclass(frozen=True)
class Opened:
    expires_at: int


def reason_errors(reason: str) -> FormErrors:
    errors = FormErrors()
    length = len(reason.strip())
    if length < MIN_REASON:
        errors.add(
            REASON_FIELD,
            f"Indiquez le motif de l'accès en urgence (au moins {MIN_REASON} caractères).",
        )
    elif length > MAX_REASON:
        errors.add(REASON_FIELD, f"Le motif ne doit pas dépasser {MAX_REASON} caractères.")
    return errors


def needs_fresh_factor(ctx: RequestContext, now: float | None = None) -> bool:
    """The service refuses an authentication older than this: ask for it again first."""
    return ctx.auth_age(int(now if now is not None else time.time())) > FRESH_AUTH_SECONDS


def open_record(
    security: Security, db: Database, ctx: RequestContext, patient_id: str, reason: str
) -> Opened | str:
    """The grant's expiry, or the French reason it was refused (both audited)."""
    patient_ref = f"Patient/{patient_id}"
    facts = breakglass_facts(db, ctx, patient_ref, int(time.time()))
    decision = security.pdp.decide(ctx, "break-glass.open", facts)
    if not decision.allowed:
        return (
            "L'accès en urgence à ce dossier vous est refusé : le patient a bloqué votre "
            "accès ou a interdit l'accès en urgence à son dossier."
        )
    try:
        grant = security.break_glass.open(ctx, patient_ref, reason)
    except BreakGlassRefused:
        return (
            "L'accès en urgence est refusé : le patient a interdit l'accès en urgence à son "
            "dossier, ou votre connexion ne permet pas cet accès (deux facteurs récents)."
        )
    return Opened(grant.expires_at)
