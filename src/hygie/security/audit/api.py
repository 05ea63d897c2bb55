"""Routes of the audit log: the signed tree head and the proofs (:func:`audit_router`), and
the access history of a patient's record (:func:`access_history_router`).

Hashes and signatures are base64, field names follow RFC 9162's (``sha256_root_hash``,
``tree_head_signature``, ``inclusion_path``, ``consistency_path``). A proof asked for
beyond the log answers 400 with ``{"error": message}``. Each history entry carries its
index and its leaf bytes: with the signed tree head and the inclusion proof of that index,
the patient checks that the entry shown is the one the log holds. Not mounted by
themselves: the app mounts them behind the policy enforcement point.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from starlette.responses import JSONResponse

from hygie.db.engine import Database
from hygie.security.audit.entry import (
    Actor,
    ActorKind,
    AuditEntry,
    Outcome,
    format_time,
    from_leaf,
    to_leaf,
)
from hygie.security.audit.errors import ProofRangeError
from hygie.security.audit.fhir_event import to_audit_event
from hygie.security.audit.service import HEAD_ID, AuditLog
from hygie.security.audit.sink import AuditSink
from hygie.security.audit.tables import security_audit_entry, security_audit_head
from hygie.security.context import Aal, PrincipalKind, RequestContext
from hygie.security.scopes import permits


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _b64_list(values: Sequence[bytes]) -> list[str]:
    return [_b64(value) for value in values]


def audit_router(log: AuditLog) -> APIRouter:
    router = APIRouter(prefix="/api/audit")

    @router.get("/sth")
    def signed_tree_head() -> dict[str, Any]:
        sth = log.signed_tree_head()
        return {
            "tree_size": sth.tree_size,
            "timestamp": sth.timestamp_ms,
            "sha256_root_hash": _b64(sth.root_hash),
            "key_id": sth.key_id,
            "tree_head_signature": _b64(sth.signature),
        }

    @router.get("/proof/inclusion", response_model=None)
    def inclusion(
        index: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)]
    ) -> dict[str, Any] | JSONResponse:
        try:
            proof = log.inclusion_proof(index, tree_size)
        except ProofRangeError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": _b64(proof.leaf_hash),
            "inclusion_path": _b64_list(proof.path),
        }

    @router.get("/proof/consistency", response_model=None)
    def consistency(
        first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
    ) -> dict[str, Any] | JSONResponse:
        try:
            proof = log.consistency_proof(first, second)
        except ProofRangeError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return {
            "first": proof.first,
            "second": proof.second,
            "consistency_path": _b64_list(proof.path),
        }

    return router


# The access history: who accessed a patient's record, for that patient or a security officer.

OFFICER_ROLE = "security-officer"
DEFAULT_COUNT = 50
MAX_COUNT = 200
LEAF_EXTENSION = "urn:hygie:audit:leaf"  # the canonical leaf bytes, to check a proof against
_PARAMETERS = frozenset({"patient", "_count", "_cursor", "date"})
_PATIENT = re.compile(r"Patient/[A-Za-z0-9\-.]{1,64}")
_DATE = re.compile(r"(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)")
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class _Search:
    patient: str | None  # the patient asked for (None: every entry)
    count: int
    before: int | None  # the cursor: entries with a smaller index
    since_us: int | None  # time >= since, in microseconds since the epoch
    until_us: int | None  # time < until


@dataclass(frozen=True, slots=True)
class _Page:
    tree_size: int  # of the log when read: every entry listed has a smaller index
    entries: list[tuple[int, AuditEntry]]
    next_cursor: int | None


def access_history_router(
    log: AuditLog,
    db: Database,
    context_of: Callable[[Request], RequestContext],
    *,
    sink: AuditSink | None = None,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    """``/api/audit/mes-acces`` (JSON for the patient's page) and ``/fhir/AuditEvent`` (a
    searchset of BALP AuditEvents) over the same search: ``patient``, ``_count``,
    ``_cursor`` (the ``next_cursor`` of the previous page: newest first) and ``date`` (FHIR
    prefixes eq, ge, gt, le, lt; a date alone is a UTC day; repeatable).

    A patient reads the entries naming their own record, and nothing else (another
    patient's: 403); a security officer (an admin with the security-officer role) reads any,
    and that read is itself appended to the log (``admin.audit.read``, naming the patient
    asked for, so the patient sees it). Anyone else gets 403. Second factor required.
    Bad parameters get 400 before anything is read. ``context_of`` authenticates the request
    (it may raise an HTTPException, 401 for no credentials); the entry of an officer's read
    goes through ``sink`` when given (stored before the response leaves).
    """
    router = APIRouter()

    def context(request: Request) -> RequestContext:
        return context_of(request)

    # A default rather than Annotated[...]: the string annotations of this module cannot name
    # a dependency local to this function.
    caller: Any = Depends(context)

    def serve(request: Request, ctx: RequestContext) -> _Page:
        search = _parse(request.query_params.multi_items())
        page = _read_page(db, replace(search, patient=_authorise(ctx, search.patient)))
        if ctx.principal.kind is not PrincipalKind.PATIENT:
            read = _officer_read(ctx, search.patient, clock)
            if sink is not None:
                sink.submit([read])
            else:
                log.append(read)
        return page

    @router.get("/api/audit/mes-acces", response_model=None)
    def my_accesses(
        request: Request, ctx: RequestContext = caller
    ) -> dict[str, Any] | JSONResponse:
        try:
            page = serve(request, ctx)
        except _Refused as refused:
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        return {
            "tree_size": page.tree_size,
            "entries": [_access(index, entry) for index, entry in page.entries],
            "next_cursor": page.next_cursor,
        }

    @router.get("/fhir/AuditEvent", response_model=None)
    def audit_events(request: Request, ctx: RequestContext = caller) -> JSONResponse:
        try:
            page = serve(request, ctx)
        except _Refused as refused:
            return _fhir(_outcome(refused), refused.status)
        links = [{"relation": "self", "url": str(request.url)}]
        if page.next_cursor is not None:
            following = request.url.include_query_params(_cursor=page.next_cursor)
            links.append({"relation": "next", "url": str(following)})
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": [
                {"resource": _event(index, entry), "search": {"mode": "match"}}
                for index, entry in page.entries
            ],
        }
        return _fhir(bundle, 200)

    return router


def _parse(items: Sequence[tuple[str, str]]) -> _Search:
    seen: dict[str, str] = {}
    dates: list[str] = []
    for name, value in items:
        if name not in _PARAMETERS:
            raise _Refused(400, f"unknown parameter {name!r}: use {', '.join(sorted(_PARAMETERS))}")
        if name == "date":
            dates.append(value)
        elif name in seen:
            raise _Refused(400, f"parameter {name!r} given more than once")
        seen[name] = value
    patient = seen.get("patient")
    if patient is not None and not _PATIENT.fullmatch(patient):
        raise _Refused(400, f"patient must be a reference Patient/<id>, got {patient!r}")
    count = _integer(seen, "_count", DEFAULT_COUNT, 1, MAX_COUNT)
    cursor = _integer(seen, "_cursor", 0, 0, None) if "_cursor" in seen else None
    since: int | None = None
    until: int | None = None
    for text in dates:
        prefix, start, end = _date_range(text)
        if prefix in ("eq", "ge", "gt"):
            bound = start if prefix != "gt" else end
            since = bound if since is None else max(since, bound)
        if prefix in ("eq", "le", "lt"):
            bound = end if prefix != "lt" else start
            until = bound if until is None else min(until, bound)
    return _Search(patient, count, cursor, since, until)


def _integer(seen: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    text = seen.get(name)
    if text is None:
        return default
    span = f"from {low} to {high}" if high is not None else f"of at least {low}"
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        raise _Refused(400, f"{name} must be an integer {span}, got {text!r}")
    return int(text)


def _date_range(text: str) -> tuple[str, int, int]:
    """(prefix, start, end) of a ``date`` value: the instants it covers, [start, end) in
    microseconds (a day for a date, one microsecond for a date-time)."""
    match = _DATE.fullmatch(text)
    if match is None:
        raise _Refused(
            400,
            f"date must be [eq|ge|gt|le|lt]YYYY-MM-DD or a date-time with a time zone, "
            f"got {text!r}",
        )
    prefix = match.group(1) or "eq"
    try:
        if match.group(3) is None:
            start = datetime.fromisoformat(match.group(2)).replace(tzinfo=UTC)
            length = timedelta(days=1)
        else:
            start = datetime.fromisoformat(match.group(2))
            length = _MICROSECOND
    except ValueError:
        raise _Refused(400, f"date {text!r} is not a valid date") from None
    first = (start - _EPOCH) // _MICROSECOND
    return prefix, first, first + length // _MICROSECOND


def _authorise(ctx: RequestContext, asked: str | None) -> str | None:
    """The patient whose entries ``ctx`` may read for ``asked`` (None: all); else 403."""
    if ctx.aal < Aal.TWO:
        raise _Refused(403, "reading the audit log needs a second authentication factor")
    principal = ctx.principal
    if principal.kind is PrincipalKind.PATIENT:
        own = principal.fhir_ref
        if own is None or not _PATIENT.fullmatch(own):
            raise _Refused(403, "this patient account is not linked to a patient record")
        if not permits(ctx.scopes, "patient", "AuditEvent", "s"):
            raise _Refused(403, "the granted scopes do not include reading AuditEvent")
        if asked is not None and asked != own:
            raise _Refused(403, "a patient may only read the accesses to their own record")
        return own
    if principal.kind is PrincipalKind.ADMIN and OFFICER_ROLE in principal.roles:
        return asked
    raise _Refused(403, "only the patient concerned or a security officer may read the audit log")


def _read_page(db: Database, search: _Search) -> _Page:
    entry = security_audit_entry.c
    query = select(entry.idx, entry.leaf).order_by(entry.idx.desc()).limit(search.count + 1)
    if search.patient is not None:
        query = query.where(entry.patient_ref == search.patient)
    if search.before is not None:
        query = query.where(entry.idx < search.before)
    if search.since_us is not None:
        query = query.where(entry.time_us >= search.since_us)
    if search.until_us is not None:
        query = query.where(entry.time_us < search.until_us)
    with db.read() as conn:
        size = conn.execute(
            select(security_audit_head.c.size).where(security_audit_head.c.id == HEAD_ID)
        ).scalar_one()
        # Under READ COMMITTED each statement has its own snapshot: keep to the size read.
        rows = conn.execute(query.where(entry.idx < size)).all()
    entries = [from_leaf(bytes(row.leaf)) for row in rows[: search.count]]
    more = len(rows) > search.count
    return _Page(int(size), entries, entries[-1][0] if more else None)


def _officer_read(
    ctx: RequestContext, patient: str | None, clock: Callable[[], float]
) -> AuditEntry:
    return AuditEntry(
        time=datetime.fromtimestamp(clock(), UTC),
        actor=Actor(ActorKind.USER, ctx.principal.id, ctx.principal.display),
        action="admin.audit.read",
        outcome=Outcome.SUCCESS,
        patient=patient,
        client_id=ctx.client_id,
        network_zone=ctx.network_zone,
        purpose_of_use=ctx.purpose_of_use,
    )


def _access(index: int, entry: AuditEntry) -> dict[str, Any]:
    """What a patient needs to read one entry, and its leaf to check its inclusion proof."""
    return {
        "index": index,
        "recorded": format_time(entry.time),
        "action": entry.action,
        "outcome": entry.outcome.value,
        "actor": {
            "kind": entry.actor.kind.value,
            "id": entry.actor.id,
            "display": entry.actor.display,
        },
        "client_id": entry.client_id,
        "resource": entry.resource,
        "patient": entry.patient,
        "purpose_of_use": entry.purpose_of_use,
        "break_glass": entry.break_glass,
        "reason": entry.reason,
        "leaf": _b64(to_leaf(entry, index)),
    }


def _event(index: int, entry: AuditEntry) -> dict[str, Any]:
    event = to_audit_event(entry, index)
    leaf = {"url": LEAF_EXTENSION, "valueBase64Binary": _b64(to_leaf(entry, index))}
    event["extension"] = [*event.get("extension", []), leaf]
    return event


def _outcome(refused: _Refused) -> dict[str, Any]:
    code = "forbidden" if refused.status == 403 else "invalid"
    issue = {"severity": "error", "code": code, "diagnostics": refused.message}
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _fhir(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")
