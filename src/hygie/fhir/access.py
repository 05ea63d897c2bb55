"""The hooks through which the FHIR engine asks who may do what: its one enforcement point.

The engine never imports the security core; it calls an :class:`AccessGuard`, built per
request from the caller's context by ``hygie.security.pep``, on every path:

- :meth:`AccessGuard.check_type` before any I/O (403 when refused);
- :meth:`AccessGuard.narrowing` pushes the caller's restrictions into the search SQL;
- :meth:`AccessGuard.release` decides on every resource that leaves (reads, vreads, search
  matches and includes, history, bundle entries) and drops the refused ones;
- :meth:`AccessGuard.admit` decides on every resource that enters, and on the version a
  write replaces or deletes, inside the write transaction (403 rolls it all back);
- :meth:`AccessGuard.finish` once the request is done, transaction closed: the audit entries.

Two store-level extensions do not depend on the caller: a :class:`ContentCodec` (Binary
encryption at rest) and :class:`WriteObserver` callbacks run in the write transaction
(the consent side tables). :class:`SystemAccess` is the only unrestricted guard; it exists
for named internal uses (importer, demo loader, CLI) and always carries its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, FromClause

from hygie.fhir.model import StoredResource

READ = "fhir.read"  # read and vread
SEARCH = "fhir.search"
HISTORY = "fhir.history"
CREATE = "fhir.create"
UPDATE = "fhir.update"
DELETE = "fhir.delete"

# Given ``fhir_resource`` (or an alias) and the resource type the rows are known to have,
# the condition the caller's rows must also meet; None when there is nothing to add.
Narrowing = Callable[[FromClause, str], ColumnElement[bool] | None]


class AccessGuard(Protocol):
    def check_type(self, action: str, resource_type: str) -> None:
        """Raise a 403 FhirError unless ``action`` on ``resource_type`` may be attempted."""
        ...

    def narrowing(self) -> Narrowing | None:
        """The restriction to AND into every search of this request, if any."""
        ...

    def release(
        self, conn: Connection, action: str, resources: Sequence[StoredResource]
    ) -> list[StoredResource]:
        """The resources the caller may receive, in order; the others are left out."""
        ...

    def admit(
        self,
        conn: Connection,
        action: str,
        body: dict[str, Any] | None,
        current: StoredResource | None,
    ) -> None:
        """Raise a 403 FhirError unless the caller may write ``body`` over ``current``."""
        ...

    def finish(self) -> None:
        """The request is over (transaction closed): store what must be recorded."""
        ...


class ContentCodec(Protocol):
    """How resource contents are kept at rest: sealed on the way in, opened on the way out."""

    def prepare(self, bodies: Sequence[object]) -> None:
        """Called before a write transaction opens (key creation must not run inside it)."""
        ...

    def seal(
        self, conn: Connection, body: dict[str, Any], batch: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        """``body`` as stored; ``batch``: the bodies created with it, not yet in the database."""
        ...

    def reveal(self, stored: StoredResource) -> StoredResource: ...


class WriteObserver(Protocol):
    def __call__(
        self, conn: Connection, stored: StoredResource, body: dict[str, Any] | None
    ) -> None:
        """Runs in the write transaction after each version is written (body None: delete)."""
        ...


# reason, then the distinct (action, resource type) pairs the request touched
SystemAudit = Callable[[str, Sequence[tuple[str, str]]], None]


class SystemAccess:
    """Unrestricted access for Hygie itself, for a named reason ("demo data load").

    Only internal tools build one (importer, demo loader, CLI). With ``audit`` it reports,
    when the request finishes, what it touched, so that it is audited like anyone.
    """

    def __init__(self, reason: str, *, audit: SystemAudit | None = None) -> None:
        if not reason.strip():
            raise ValueError("system access needs a reason")
        self.reason = reason
        self._audit = audit
        self._touched: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return f"SystemAccess(reason={self.reason!r})"

    def check_type(self, action: str, resource_type: str) -> None:
        self._touched.add((action, resource_type))

    def narrowing(self) -> Narrowing | None:
        return None

    def release(
        self, conn: Connection, action: str, resources: Sequence[StoredResource]
    ) -> list[StoredResource]:
        return list(resources)

    def admit(
        self,
        conn: Connection,
        action: str,
        body: dict[str, Any] | None,
        current: StoredResource | None,
    ) -> None:
        rtype = body["resourceType"] if body else current.resource_type if current else None
        if rtype is not None:
            self._touched.add((action, rtype))

    def finish(self) -> None:
        touched, self._touched = sorted(self._touched), set()
        if self._audit is not None and touched:
            self._audit(self.reason, touched)


def action_of(method: str, *, search: bool = False) -> str:
    """The FHIR action an HTTP method stands for (a Bundle entry's, or a request's)."""
    if method == "GET":
        return SEARCH if search else READ
    return {"POST": CREATE, "PUT": UPDATE, "DELETE": DELETE}[method]
