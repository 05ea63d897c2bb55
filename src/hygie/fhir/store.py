"""The FHIR store: create, read, vread, update, delete and history over one database.

Every write runs in a :class:`StoreTransaction` (one database transaction): a single
interaction opens its own, a transaction Bundle shares one for all its entries, so that
it commits whole or not at all. Updates are optimistic: the row's version is checked in
the UPDATE itself, so two concurrent writers can never both build on the same version.

The store validates every resource on the way in and indexes it for search. It knows
nothing of HTTP; ``hygie.fhir.router`` maps requests onto it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, and_, bindparam, delete, exists, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hygie.db.driver import DriverStatement
from hygie.db.engine import Database
from hygie.db.schema import INDEX_TABLES, fhir_history, fhir_resource
from hygie.fhir.access import (
    CREATE,
    DELETE,
    SEARCH,
    UPDATE,
    AccessGuard,
    ContentCodec,
    Narrowing,
    WriteObserver,
)
from hygie.fhir.dates import format_instant
from hygie.fhir.errors import FhirError, Issue, bad_request, not_found
from hygie.fhir.indexing import Indexer
from hygie.fhir.model import StoredResource, WriteResult
from hygie.fhir.search import find_matches
from hygie.fhir.search.rows import RESOURCE_COLUMNS, to_stored
from hygie.fhir.searchparams import SearchParamRegistry, default_registry
from hygie.fhir.validation import KNOWN_RESOURCE_TYPES, validate
from hygie.fhir.validation_rules import ResourceRules

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def check_id(resource_id: str) -> str:
    if not ID_PATTERN.match(resource_id):
        raise bad_request(
            f"{resource_id!r} is not a valid FHIR id (1 to 64 of A-Z a-z 0-9 - .)", code="value"
        )
    return resource_id


def _now_us() -> int:
    return time.time_ns() // 1000


class FhirStore:
    """The FHIR resources of one Hygie installation."""

    def __init__(
        self,
        database: Database,
        *,
        registry: SearchParamRegistry | None = None,
        clock: Callable[[], int] = _now_us,
        codec: ContentCodec | None = None,
        observers: Sequence[WriteObserver] = (),
        rules: ResourceRules | None = None,
    ) -> None:
        self.database = database
        self.registry = registry or default_registry()
        self.indexer = Indexer(self.registry)
        self._clock = clock
        self.codec = codec  # how contents are kept at rest (Binary encryption)
        self.observers = tuple(observers)  # run in the transaction of every write
        self.rules = rules  # business rules per resource type (a 422), from the composition root

    def prepare(self, bodies: Sequence[object]) -> None:
        """Let the codec do what must not run inside a write transaction (key creation)."""
        if self.codec is not None:
            self.codec.prepare(bodies)

    def reveal(self, stored: StoredResource) -> StoredResource:
        """The version as the caller sees it (Binary data decrypted)."""
        return stored if self.codec is None or stored.deleted else self.codec.reveal(stored)

    def reveal_all(self, versions: Sequence[StoredResource]) -> list[StoredResource]:
        """:meth:`reveal` for a search or history page: a version whose content was erased
        (410: its patient's data key is destroyed) is left out, not the whole page."""
        revealed = []
        for stored in versions:
            try:
                revealed.append(self.reveal(stored))
            except FhirError as error:
                if error.status != 410:
                    raise
        return revealed

    # -- reads ------------------------------------------------------------------------
    def read(self, resource_type: str, resource_id: str) -> StoredResource:
        """The current version; 404 if it never existed, 410 if it was deleted."""
        with self.database.read() as conn:
            return read_current(conn, resource_type, resource_id)

    def vread(self, resource_type: str, resource_id: str, version: int) -> StoredResource:
        with self.database.read() as conn:
            return read_version(conn, resource_type, resource_id, version)

    # -- writes -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, guard: AccessGuard | None = None) -> Iterator[StoreTransaction]:
        """Several writes that commit together, or not at all if the block raises.

        Every request from outside passes its guard; ``None`` is for Hygie's own modules
        writing their own non-clinical resources (locations, devices).
        """
        with self.database.write() as conn:
            yield StoreTransaction(self, conn, guard)

    def create(
        self,
        resource: object,
        *,
        if_none_exist: str | None = None,
        expected_type: str | None = None,
        guard: AccessGuard | None = None,
    ) -> WriteResult:
        self.prepare([resource])
        with self.transaction(guard) as tx:
            return tx.create(resource, if_none_exist=if_none_exist, expected_type=expected_type)

    def update(
        self,
        resource_type: str,
        resource_id: str,
        resource: object,
        *,
        if_match: int | None = None,
        guard: AccessGuard | None = None,
    ) -> WriteResult:
        self.prepare([resource])
        with self.transaction(guard) as tx:
            return tx.update(resource_type, resource_id, resource, if_match=if_match)

    def conditional_update(
        self,
        resource_type: str,
        criteria: str,
        resource: object,
        *,
        guard: AccessGuard | None = None,
    ) -> WriteResult:
        self.prepare([resource])
        with self.transaction(guard) as tx:
            return tx.conditional_update(resource_type, criteria, resource)

    def delete(
        self, resource_type: str, resource_id: str, *, guard: AccessGuard | None = None
    ) -> WriteResult | None:
        with self.transaction(guard) as tx:
            return tx.delete(resource_type, resource_id)

    def conditional_delete(
        self, resource_type: str, criteria: str, *, guard: AccessGuard | None = None
    ) -> WriteResult | None:
        with self.transaction(guard) as tx:
            return tx.conditional_delete(resource_type, criteria)

    def known_type(self, resource_type: str) -> str:
        if resource_type not in KNOWN_RESOURCE_TYPES:
            raise FhirError(
                404, Issue("not-supported", f"{resource_type!r} is not a FHIR R4 resource type")
            )
        return resource_type


@cache
def _read_current(dialect: Dialect) -> DriverStatement:
    """Reads are the hottest path: compiled once, run on the driver (see hygie.db.driver)."""
    return DriverStatement(
        select(*RESOURCE_COLUMNS).where(
            fhir_resource.c.resource_type == bindparam("resource_type"),
            fhir_resource.c.id == bindparam("resource_id"),
        ),
        dialect,
    )


def read_current(conn: Connection, resource_type: str, resource_id: str) -> StoredResource:
    rows = _read_current(conn.dialect).rows(
        conn, {"resource_type": resource_type, "resource_id": resource_id}
    )
    stored = to_stored(rows[0]) if rows else None
    if stored is None or stored.version == 0:
        raise not_found(resource_type, resource_id)
    if stored.deleted:
        raise gone(stored)
    return stored


def read_version(
    conn: Connection, resource_type: str, resource_id: str, version: int
) -> StoredResource:
    row = conn.execute(
        select(fhir_history).where(
            fhir_history.c.resource_type == resource_type,
            fhir_history.c.id == resource_id,
            fhir_history.c.version == version,
        )
    ).first()
    if row is None:
        raise FhirError(
            404, Issue("not-found", f"{resource_type}/{resource_id} has no version {version}")
        )
    stored = StoredResource(row.resource_type, row.id, row.version, row.last_updated, row.content)
    if stored.deleted:
        raise gone(stored)
    return stored


class ItemError(FhirError):
    """A FhirError raised for one item of :meth:`StoreTransaction.create_many`."""

    def __init__(self, position: int, error: FhirError) -> None:
        super().__init__(error.status, error.issues)
        self.position = position


def gone(stored: StoredResource) -> FhirError:
    return FhirError(
        410, Issue("deleted", f"{stored.reference} was deleted (version {stored.version})")
    )


class StoreTransaction:
    """The writes of one database transaction. Obtain it from :meth:`FhirStore.transaction`."""

    def __init__(
        self, store: FhirStore, conn: Connection, guard: AccessGuard | None = None
    ) -> None:
        self.store = store
        self.conn = conn
        self.guard = guard
        self.narrowing = guard.narrowing() if guard is not None else None

    def _admit(
        self, action: str, body: dict[str, Any] | None, current: StoredResource | None
    ) -> None:
        if self.guard is not None:
            self.guard.admit(self.conn, action, body, current)

    def find_visible(self, resource_type: str, criteria: str) -> list[StoredResource]:
        """Conditional criteria, matched among what the caller may see only."""
        matches = find_matches(
            self.conn, resource_type, criteria, self.store.registry, narrowing=self.narrowing
        )
        if self.guard is None:
            return matches
        return self.guard.release(self.conn, SEARCH, matches)

    def create(
        self,
        resource: object,
        *,
        if_none_exist: str | None = None,
        resource_id: str | None = None,
        expected_type: str | None = None,
    ) -> WriteResult:
        """Create with a server-assigned id (any id in the body is replaced, as the spec says).

        ``resource_id`` is for the transaction processor, which assigns ids up front so that
        ``urn:uuid:`` references can be rewritten before the entries are written.
        ``expected_type`` is the type the request was addressed to (POST /fhir/Patient).
        """
        body = validate(resource, expected_type=expected_type, rules=self.store.rules)
        resource_type = body["resourceType"]
        if if_none_exist is not None:
            matches = self.find_visible(resource_type, if_none_exist)
            if len(matches) > 1:
                raise FhirError(
                    412,
                    Issue(
                        "duplicate",
                        f"If-None-Exist '{if_none_exist}' matches {len(matches)} "
                        f"{resource_type} resources; it must match at most one",
                    ),
                )
            if matches:
                return WriteResult(matches[0], unchanged=True)
        self._admit(CREATE, body, None)
        new_id = resource_id or str(uuid.uuid4())
        return WriteResult(self._insert_new([(body, new_id)], "POST")[0], created=True)

    def create_many(self, items: Sequence[tuple[object, str, str]]) -> list[WriteResult]:
        """Create several resources in a handful of statements: (resource, id, expected type).

        For the transaction processor, which has chosen the ids. A resource that fails
        validation raises :class:`ItemError` naming its position in ``items``.
        """
        bodies = []
        for position, (resource, resource_id, expected_type) in enumerate(items):
            try:
                body = validate(resource, expected_type=expected_type, rules=self.store.rules)
                self._admit(CREATE, body, None)
            except FhirError as error:
                raise ItemError(position, error) from None
            bodies.append((body, resource_id))
        return [WriteResult(stored, created=True) for stored in self._insert_new(bodies, "POST")]

    def update(
        self,
        resource_type: str,
        resource_id: str,
        resource: object,
        *,
        if_match: int | None = None,
    ) -> WriteResult:
        """Replace the current version; create the resource under this id if it never existed."""
        check_id(resource_id)
        body = validate(resource, expected_type=resource_type, rules=self.store.rules)
        if body.get("id") != resource_id:
            raise bad_request(
                f"the resource's id ({body.get('id')!r}) must equal the id in the URL "
                f"({resource_id!r})",
                f"{resource_type}.id",
            )
        current = self._current(resource_type, resource_id)
        if current is None and if_match is None:
            current = self._claim_id(resource_type, resource_id)
        if if_match is not None and (current is None or current.version != if_match):
            have = "no version" if current is None else f"version {current.version}"
            raise FhirError(
                412,
                Issue(
                    "conflict",
                    f"If-Match asks for version {if_match} of "
                    f"{resource_type}/{resource_id}, the server has {have}",
                ),
            )
        created = current is None or current.deleted
        self._admit(CREATE if created else UPDATE, body, None if created else current)
        return WriteResult(self._write_version(body, resource_id, current, "PUT"), created=created)

    def conditional_update(
        self, resource_type: str, criteria: str, resource: object
    ) -> WriteResult:
        body = validate(resource, expected_type=resource_type, rules=self.store.rules)
        matches = self.find_visible(resource_type, criteria)
        if len(matches) > 1:
            raise FhirError(
                412,
                Issue(
                    "multiple-matches",
                    f"'{criteria}' matches {len(matches)} {resource_type} "
                    "resources; a conditional update needs at most one",
                ),
            )
        if matches:
            body_id = body.get("id")
            if body_id is not None and body_id != matches[0].id:
                raise bad_request(
                    f"the resource's id ({body_id!r}) differs from the matching resource "
                    f"{matches[0].reference}",
                    f"{resource_type}.id",
                )
            return self.update(resource_type, matches[0].id, {**body, "id": matches[0].id})
        if "id" in body:
            return self.update(resource_type, check_id(str(body["id"])), body)
        return self.create(body)

    def delete(self, resource_type: str, resource_id: str) -> WriteResult | None:
        """Delete; None when there was nothing to delete (already deleted or never existed)."""
        current = self._current(resource_type, resource_id)
        if current is None or current.deleted:
            return None
        self._admit(DELETE, None, current)
        now = self._next_timestamp(current)
        version = current.version + 1
        self.conn.execute(
            update(fhir_resource)
            .where(fhir_resource.c.seq == current.seq, fhir_resource.c.version == current.version)
            .values(version=version, last_updated=now, deleted=True, content=None)
        )
        self._drop_index(current.seq)
        self.conn.execute(
            insert(fhir_history).values(
                resource_type=resource_type,
                id=resource_id,
                version=version,
                last_updated=now,
                method="DELETE",
                content=None,
            )
        )
        deleted = StoredResource(resource_type, resource_id, version, now, None, current.seq)
        self._observe([(deleted, None)])
        return WriteResult(deleted)

    def conditional_delete(self, resource_type: str, criteria: str) -> WriteResult | None:
        matches = self.find_visible(resource_type, criteria)
        if len(matches) > 1:
            raise FhirError(
                412,
                Issue(
                    "multiple-matches",
                    f"'{criteria}' matches {len(matches)} {resource_type} "
                    "resources; a conditional delete deletes at most one",
                ),
            )
        return self.delete(resource_type, matches[0].id) if matches else None

    # -- internals --------------------------------------------------------------------
    def _current(self, resource_type: str, resource_id: str) -> StoredResource | None:
        query = select(*RESOURCE_COLUMNS).where(
            fhir_resource.c.resource_type == resource_type, fhir_resource.c.id == resource_id
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()  # concurrent writers of this row queue here
        row = self.conn.execute(query).first()
        return None if row is None else to_stored(row)

    def _next_timestamp(self, current: StoredResource | None) -> int:
        now: int = self.store._clock()
        # Versions of one resource never share or go back in time, even if the clock does.
        if current is not None and now <= current.last_updated:
            now = current.last_updated + 1
        return now

    def _claim_id(self, resource_type: str, resource_id: str) -> StoredResource | None:
        """Reserve a client-chosen id so that two concurrent update-as-creates cannot collide.

        Inserts an empty "deleted, version 0" row unless one exists, then returns the row
        locked, or None on SQLite (one writer at a time: nothing to race with).
        """
        if self.conn.dialect.name != "postgresql":
            return None
        self.conn.execute(
            pg_insert(fhir_resource)
            .values(
                resource_type=resource_type,
                id=resource_id,
                version=0,
                last_updated=0,
                deleted=True,
                content=None,
            )
            .on_conflict_do_nothing(index_elements=["resource_type", "id"])
        )
        return self._current(resource_type, resource_id)

    def _stamp(
        self, body: dict[str, Any], resource_id: str, version: int, now: int
    ) -> dict[str, Any]:
        """The stored resource: the client's, with its id, versionId and lastUpdated."""
        meta = {
            k: v for k, v in body.get("meta", {}).items() if k not in ("versionId", "lastUpdated")
        }
        stored_body = {
            "resourceType": body["resourceType"],
            "id": resource_id,
            "meta": {"versionId": str(version), "lastUpdated": format_instant(now), **meta},
            **{k: v for k, v in body.items() if k not in ("resourceType", "id", "meta")},
        }
        return stored_body

    def _insert_new(
        self, bodies: Sequence[tuple[dict[str, Any], str]], method: str
    ) -> list[StoredResource]:
        """Version 1 of new resources: one multi-row INSERT per table, whatever their number."""
        now = self._next_timestamp(None)
        stamped = [self._stamp(body, resource_id, 1, now) for body, resource_id in bodies]
        kept = [self._seal(body, stamped) for body in stamped]
        rows = [
            {
                "resource_type": body["resourceType"],
                "id": body["id"],
                "version": 1,
                "last_updated": now,
                "deleted": False,
                "content": orjson.dumps(body),
            }
            for body in kept
        ]
        seqs = (
            self.conn.execute(
                insert(fhir_resource).returning(fhir_resource.c.seq, sort_by_parameter_order=True),
                rows,
            )
            .scalars()
            .all()
        )
        stored = [
            StoredResource(r["resource_type"], r["id"], 1, now, r["content"], seq)
            for r, seq in zip(rows, seqs, strict=True)
        ]
        self._append_history(stored, method)
        self._insert_index(list(zip(stored, kept, strict=True)))
        self._observe(list(zip(stored, stamped, strict=True)))
        return stored

    def _write_version(
        self, body: dict[str, Any], resource_id: str, current: StoredResource | None, method: str
    ) -> StoredResource:
        if current is None:
            return self._insert_new([(body, resource_id)], method)[0]
        resource_type = body["resourceType"]
        version = current.version + 1
        now = self._next_timestamp(current)
        stamped = self._stamp(body, resource_id, version, now)
        kept = self._seal(stamped)
        content = orjson.dumps(kept)
        changed = self.conn.execute(
            update(fhir_resource)
            .where(fhir_resource.c.seq == current.seq, fhir_resource.c.version == current.version)
            .values(version=version, last_updated=now, deleted=False, content=content)
        ).rowcount
        if changed != 1:  # cannot happen under the row lock; refuse rather than lose a write
            raise FhirError(
                409, Issue("conflict", f"{resource_type}/{resource_id} changed during the update")
            )
        self._drop_index(current.seq)
        stored = StoredResource(resource_type, resource_id, version, now, content, current.seq)
        self._append_history([stored], method)
        self._insert_index([(stored, kept)])
        self._observe([(stored, stamped)])
        return stored

    def _seal(self, body: dict[str, Any], batch: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        codec = self.store.codec
        return body if codec is None else codec.seal(self.conn, body, batch)

    def _observe(self, written: Sequence[tuple[StoredResource, dict[str, Any] | None]]) -> None:
        for observer in self.store.observers:
            for stored, body in written:
                observer(self.conn, stored, body)

    def _append_history(self, versions: Sequence[StoredResource], method: str) -> None:
        self.conn.execute(
            insert(fhir_history),
            [
                {
                    "resource_type": v.resource_type,
                    "id": v.id,
                    "version": v.version,
                    "last_updated": v.last_updated,
                    "method": method,
                    "content": v.content,
                }
                for v in versions
            ],
        )

    def _insert_index(self, versions: Sequence[tuple[StoredResource, dict[str, Any]]]) -> None:
        by_kind: dict[str, list[dict[str, object]]] = {}
        for v, body in versions:
            rows = self.store.indexer.index(body)
            for kind, kind_rows in rows.table_rows(v.seq, v.resource_type).items():
                by_kind.setdefault(kind, []).extend(kind_rows)
        for kind, kind_rows in by_kind.items():
            self.conn.execute(insert(INDEX_TABLES[kind]), kind_rows)

    def _drop_index(self, seq: int) -> None:
        for table in INDEX_TABLES.values():
            self.conn.execute(delete(table).where(table.c.resource_seq == seq))


def history(
    conn: Connection,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: int | None = None,
    before_hseq: int | None = None,
    count: int = 20,
    narrowing: Narrowing | None = None,
) -> list[tuple[int, str, StoredResource]]:
    """History entries, newest first: (history seq, method, version).

    ``narrowing`` (known only for a type's history) keeps the versions of resources whose
    current version meets it.
    """
    conditions = []
    if resource_type is not None:
        conditions.append(fhir_history.c.resource_type == resource_type)
    if resource_id is not None:
        conditions.append(fhir_history.c.id == resource_id)
    if since is not None:
        conditions.append(fhir_history.c.last_updated >= since)
    if before_hseq is not None:
        conditions.append(fhir_history.c.hseq < before_hseq)
    if narrowing is not None and resource_type is not None:
        res = fhir_resource.alias("current")
        restriction = narrowing(res, resource_type)
        if restriction is not None:
            conditions.append(
                exists(
                    select(res.c.seq).where(
                        res.c.resource_type == fhir_history.c.resource_type,
                        res.c.id == fhir_history.c.id,
                        restriction,
                    )
                )
            )
    rows = conn.execute(
        select(fhir_history)
        .where(and_(True, *conditions))
        .order_by(fhir_history.c.hseq.desc())
        .limit(count)
    ).all()
    return [
        (
            r.hseq,
            r.method,
            StoredResource(r.resource_type, r.id, r.version, r.last_updated, r.content),
        )
        for r in rows
    ]
