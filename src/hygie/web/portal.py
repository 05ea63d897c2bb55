"""What the patient and professional routes share: their collaborators and the one way to
reach health data (as the signed-in caller, through the enforcement point, audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hygie.db.engine import Database
from hygie.http.caller_fhir import FhirClient, caller_fhir
from hygie.security.services import Security
from hygie.web.caller import Gate
from hygie.web.render import Pages

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Portal:
    pages: Pages
    gate: Gate
    security: Security
    db: Database


async def as_caller(
    request: Request,
    work: Callable[Concatenate[FhirClient, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``work(fhir, ...)`` in the thread pool with the caller's FHIR client; its audit
    entries are stored before this returns (else :class:`AuditNotStored` is raised)."""
    async with caller_fhir(request) as fhir:
        return await run_in_threadpool(work, fhir, *args, **kwargs)
