"""The accesses to a patient's record, for that patient: who (name, profession,
organisation), when, what, break-the-glass or not, permitted or refused, read from the
audit log, each checked against the signed log.

Only the signed-in patient's own record is listed: the policy decides ``audit.read-own``
(second factor required) and the patient's reference comes from their session, never from
a parameter. As at ``/api/audit/mes-acces``, a patient's reading of their own history is
not itself appended to the log (a security officer's is). The patient's own actions on
their record are left out by default: the page answers "who else looked at it".

Each entry is checked server side: its inclusion proof against the current signed tree
head, with the log's Merkle functions (``verified``); the same proof is public as JSON at
``/api/audit/proof/inclusion?index=<index>&tree_size=<tree_size>`` and the signed head at
``/api/audit/sth``, for whoever wants to check it themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hygie.record.directory import Directory, Person
from hygie.security.audit.entry import ActorKind, AuditEntry, Outcome, to_leaf
from hygie.security.audit.service import AuditLog, SignedTreeHead
from hygie.security.context import PrincipalKind, RequestContext
from hygie.security.policy.model import DecisionPoint, ResourceFacts

MAX_LIMIT = 200
_SCAN_FACTOR = 20  # rows read at most per entry asked, when the patient's own are skipped
_NOTE_TYPES = re.compile(r"[a-z\-.]+ ([A-Za-z, ]+?)(:|$)")

RESOURCE_LABELS = {
    "Patient": "votre fiche d'identité",
    "Observation": "vos mesures et résultats",
    "DocumentReference": "vos documents",
    "Binary": "le contenu d'un document",
    "Encounter": "vos consultations et séjours",
    "Appointment": "vos rendez-vous",
    "Communication": "vos messages",
    "Condition": "vos antécédents",
    "AllergyIntolerance": "vos allergies",
    "MedicationStatement": "vos traitements",
    "MedicationRequest": "vos prescriptions",
    "Immunization": "vos vaccinations",
    "Consent": "vos choix de confidentialité",
    "DiagnosticReport": "vos comptes rendus d'examens",
    "Procedure": "vos actes et interventions",
}
ACTION_LABELS = {
    "fhir.read": "Consultation",
    "fhir.search": "Recherche",
    "fhir.history": "Consultation de l'historique",
    "fhir.create": "Ajout",
    "fhir.update": "Modification",
    "fhir.delete": "Suppression",
    "consent.break-glass": "Accès en urgence (bris de glace)",
    "admin.audit.read": "Lecture de votre historique d'accès",
}
_ACTOR_LABELS = {
    ActorKind.SYSTEM: "Hygie",
    ActorKind.APP: "Application",
    ActorKind.DEVICE: "Appareil",
    ActorKind.USER: "Agent de l'établissement",
}


class AccessHistoryRefused(PermissionError):
    """The caller may not read this history (French message)."""


@dataclass(frozen=True, slots=True)
class AccessView:
    when: datetime
    who: str
    profession: str
    organisation: str
    action: str  # French: "Consultation", "Ajout" ...
    what: str  # French: "vos documents" ...
    break_glass: bool
    allowed: bool
    index: int  # in the audit log
    verified: bool = False  # its inclusion proof checks against the signed tree head
    actor_ref: str = ""  # "Practitioner/12": what privacy.block_actor takes


@dataclass(frozen=True, slots=True)
class AccessHistory:
    entries: list[AccessView]
    tree_head: SignedTreeHead  # the signed head every entry was checked against
    next_before: int | None  # pass as ``before`` for the next (older) page

    def proof_url(self, view: AccessView) -> str:
        return f"/api/audit/proof/inclusion?index={view.index}&tree_size={self.tree_head.tree_size}"


def access_history(
    log: AuditLog,
    pdp: DecisionPoint,
    directory: Directory,
    ctx: RequestContext,
    *,
    limit: int = 50,
    before: int | None = None,
    include_own: bool = False,
) -> AccessHistory:
    """The signed-in patient's access history, newest first, ``limit`` entries from
    ``before`` (an index; None: the newest)."""
    patient = _own_record(pdp, ctx)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_LIMIT}")
    sth = log.signed_tree_head()
    found, next_before = _entries(log, patient, sth.tree_size, limit, before, include_own)
    people = directory.people(
        e.actor.id for _, e in found if e.actor.kind is ActorKind.PRACTITIONER
    )
    views = [
        _view(index, entry, people.get(entry.actor.id), _included(log, sth, index, entry))
        for index, entry in found
    ]
    return AccessHistory(views, sth, next_before)


def inclusion_verified(log: AuditLog, index: int, tree_size: int) -> bool:
    """Does the stored entry ``index`` prove its inclusion in the tree of ``tree_size``?"""
    sth = log.signed_tree_head()
    if tree_size > sth.tree_size or not 0 <= index < tree_size:
        return False
    return _included(log, sth, index, log.entry(index))


def _own_record(pdp: DecisionPoint, ctx: RequestContext) -> str:
    principal = ctx.principal
    own = principal.fhir_ref
    if principal.kind is not PrincipalKind.PATIENT or not own or not own.startswith("Patient/"):
        raise AccessHistoryRefused(
            "Seul le patient concerné consulte l'historique des accès à son dossier."
        )
    decision = pdp.decide(ctx, "audit.read-own", ResourceFacts("AuditEvent", patient_ref=own))
    if not decision.allowed:
        raise AccessHistoryRefused(
            "L'historique des accès demande une connexion avec un second facteur."
            if ctx.aal < 2
            else f"Accès refusé : {decision.reason}."
        )
    return own


def _entries(
    log: AuditLog,
    patient: str,
    tree_size: int,
    limit: int,
    before: int | None,
    include_own: bool,
) -> tuple[list[tuple[int, AuditEntry]], int | None]:
    """Up to ``limit`` entries naming ``patient`` below ``before``, read in chunks; the
    patient's own are skipped unless ``include_own`` (the scan is bounded)."""
    upper = tree_size if before is None else min(before, tree_size)
    kept: list[tuple[int, AuditEntry]] = []
    scanned = 0
    while len(kept) < limit and scanned < limit * _SCAN_FACTOR:
        rows = log.entries_for_patient(patient, limit=limit * 2, before=upper)
        if not rows:
            return kept, None
        for index, item in rows:
            scanned += 1
            upper = index
            if include_own or item.actor.id != patient:
                kept.append((index, item))
                if len(kept) == limit:
                    break
    return kept, upper


def _included(log: AuditLog, sth: SignedTreeHead, index: int, entry: AuditEntry) -> bool:
    proof = log.inclusion_proof(index, sth.tree_size)
    return log.verify_inclusion(
        to_leaf(entry, index), index, sth.tree_size, proof.path, sth.root_hash
    )


def _view(index: int, entry: AuditEntry, person: Person | None, verified: bool) -> AccessView:
    actor = entry.actor
    if person is not None:
        who, profession, organisation = person.name, person.profession, person.organisation
        if who == actor.id and actor.display:
            who = actor.display
    elif actor.kind is ActorKind.PATIENT:
        who, profession, organisation = actor.display or "Patient", "", ""
    else:
        label = _ACTOR_LABELS.get(actor.kind, "")
        who = f"{label} {actor.display}".strip() if actor.display != label else label
        profession = organisation = ""
    return AccessView(
        when=entry.time,
        who=who,
        profession=profession,
        organisation=organisation,
        action=ACTION_LABELS.get(entry.action, entry.action),
        what=_what(entry),
        break_glass=entry.break_glass,
        allowed=entry.outcome in (Outcome.PERMIT, Outcome.SUCCESS),
        index=index,
        verified=verified,
        actor_ref=actor.id if actor.kind is ActorKind.PRACTITIONER else "",
    )


def _what(entry: AuditEntry) -> str:
    if entry.action == "consent.break-glass":
        return f"votre dossier — motif : {entry.reason}" if entry.reason else "votre dossier"
    if entry.resource:
        return RESOURCE_LABELS.get(entry.resource.split("/", 1)[0], "votre dossier")
    match = _NOTE_TYPES.match(entry.reason or "")
    if match and entry.outcome in (Outcome.PERMIT, Outcome.SUCCESS):
        types = [t.strip() for t in match.group(1).split(",")]
        labels = [RESOURCE_LABELS.get(t, "votre dossier") for t in types]
        return ", ".join(dict.fromkeys(labels))
    return "votre dossier"
