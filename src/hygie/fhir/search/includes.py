"""``_include`` and ``_revinclude``: the resources a page's matches refer to, or that refer
to them, then (``:iterate``) the same from what was included, a few rounds deep.

At most :data:`MAX_INCLUDED` resources are included per page; beyond that the page
carries a warning, and a smaller ``_count`` gets them all.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, and_, false, or_, select

from hygie.db.schema import fhir_resource, idx_reference
from hygie.fhir.access import Narrowing
from hygie.fhir.errors import Issue
from hygie.fhir.model import StoredResource
from hygie.fhir.search.query import Include, SearchQuery
from hygie.fhir.search.rows import RESOURCE_COLUMNS, to_stored
from hygie.fhir.search.sql import live

MAX_INCLUDED = 1000
MAX_ITERATIONS = 3  # rounds of :iterate after the first


def included(
    conn: Connection,
    query: SearchQuery,
    matches: list[StoredResource],
    narrowing: Narrowing | None = None,
) -> tuple[list[StoredResource], list[Issue]]:
    """The included resources (none of them a match), and a warning if some were cut.

    ``narrowing`` restricts ``_revinclude`` sources (their type is known); the targets of
    ``_include`` may be of any type and are left to the instance-level check.
    """
    seen = {m.seq for m in matches}
    found: list[StoredResource] = []
    frontier = matches
    for round_ in range(1 + MAX_ITERATIONS):
        forward = [i for i in query.includes if round_ == 0 or i.iterate]
        reverse = [i for i in query.revincludes if round_ == 0 or i.iterate]
        fresh: list[StoredResource] = []
        for include, is_reverse in [(i, False) for i in forward] + [(i, True) for i in reverse]:
            if not frontier:
                break
            budget = MAX_INCLUDED - len(found) - len(fresh)
            if is_reverse:
                fetched = _referring(conn, include, frontier, budget + 1, narrowing)
            else:
                fetched = _referred(conn, include, frontier, budget + 1)
            for stored in fetched:
                if stored.seq in seen:
                    continue
                if len(found) + len(fresh) == MAX_INCLUDED:
                    return found + fresh, [_truncated()]
                seen.add(stored.seq)
                fresh.append(stored)
        found.extend(fresh)
        frontier = fresh
    return found, []


def _referred(
    conn: Connection, include: Include, frontier: list[StoredResource], limit: int
) -> list[StoredResource]:
    """Resources that ``include.source_type`` resources of the frontier refer to."""
    sources = [r.seq for r in frontier if r.resource_type == include.source_type]
    if not sources:
        return []
    refs, target = idx_reference, fhir_resource.alias("target")
    conditions = [refs.c.resource_seq.in_(sources), refs.c.resource_type == include.source_type]
    if include.param is not None:
        conditions.append(refs.c.param == include.param)
    if include.target_type is not None:
        conditions.append(refs.c.target_type == include.target_type)
    targets = (
        select(target.c.seq)
        .join_from(
            refs,
            target,
            and_(target.c.resource_type == refs.c.target_type, target.c.id == refs.c.target_id),
        )
        .where(*conditions)
    )
    res = fhir_resource
    rows = conn.execute(
        select(*RESOURCE_COLUMNS)
        .where(res.c.seq.in_(targets), res.c.deleted == false())
        .order_by(res.c.seq)
        .limit(limit)
    )
    return [to_stored(r) for r in rows]


def _referring(
    conn: Connection,
    include: Include,
    frontier: list[StoredResource],
    limit: int,
    narrowing: Narrowing | None,
) -> list[StoredResource]:
    """``include.source_type`` resources whose ``include.param`` refers to the frontier."""
    ids: dict[str, list[str]] = defaultdict(list)
    for r in frontier:
        if include.target_type in (None, r.resource_type):
            ids[r.resource_type].append(r.id)
    if not ids:
        return []
    refs = idx_reference
    conditions = [
        refs.c.resource_type == include.source_type,
        or_(*(and_(refs.c.target_type == t, refs.c.target_id.in_(i)) for t, i in ids.items())),
    ]
    if include.param is not None:
        conditions.append(refs.c.param == include.param)
    res = fhir_resource
    restriction = narrowing(res, include.source_type) if narrowing is not None else None
    rows = conn.execute(
        select(*RESOURCE_COLUMNS)
        .where(
            live(res, include.source_type),
            res.c.seq.in_(select(refs.c.resource_seq).where(*conditions)),
            *([restriction] if restriction is not None else []),
        )
        .order_by(res.c.seq)
        .limit(limit)
    )
    return [to_stored(r) for r in rows]


def _truncated() -> Issue:
    return Issue(
        "incomplete",
        f"only the first {MAX_INCLUDED} included resources are returned; "
        "ask for a smaller _count to get all of them",
        severity="warning",
    )
