"""The audit log service: append entries, read tree heads, prove inclusion and consistency.

Appends run in one write transaction that first locks the head row (``FOR UPDATE`` on
PostgreSQL; SQLite's single writer lock does the same), so concurrent appenders get
consecutive indexes with no gap. An append writes its leaf, the complete subtrees it
closes (one on average) and the new head: O(log n) work at worst, O(1) amortised.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, Row, bindparam, select

from hygie.db.driver import DriverStatement, driver_error
from hygie.db.engine import Database
from hygie.security.audit import merkle
from hygie.security.audit.entry import AuditEntry, from_leaf, to_leaf
from hygie.security.audit.errors import ProofRangeError
from hygie.security.audit.signing import TreeHeadSigner
from hygie.security.audit.tables import (
    security_audit_entry,
    security_audit_head,
    security_audit_node,
    security_audit_sth,
)

EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) in RFC 9162 2.1.1
HEAD_ID = 1
_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TreeHead:
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    key_id: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first: int
    second: int
    path: tuple[bytes, ...]


class _Recorder:
    """A reader that only notes which nodes an algorithm asks for (its path never depends on
    the hash values), so that they can all be fetched in one query."""

    def __init__(self) -> None:
        self.wanted: list[tuple[int, int]] = []

    def node(self, level: int, index: int) -> bytes:
        self.wanted.append((level, index))
        return bytes(merkle.HASH_SIZE)


class _Fetched:
    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self._nodes = nodes

    def node(self, level: int, index: int) -> bytes:
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise LookupError(f"the audit log has no stored hash ({level}, {index})") from None


def _with_stored_nodes(conn: Connection, compute: Callable[[merkle.NodeReader], _T]) -> _T:
    """Run ``compute`` over the stored hashes, read in one or two queries."""
    recorder = _Recorder()
    compute(recorder)
    leaves = [index for level, index in recorder.wanted if level == 0]
    inner = [(level, index) for level, index in recorder.wanted if level > 0]
    nodes: dict[tuple[int, int], bytes] = {}
    if leaves:
        entry = security_audit_entry.c
        rows = conn.execute(select(entry.idx, entry.leaf_hash).where(entry.idx.in_(leaves)))
        nodes.update(((0, int(index)), bytes(value)) for index, value in rows)
    if inner:
        node = security_audit_node.c
        positions = [merkle.flat_position(level, index) for level, index in inner]
        inner_rows = conn.execute(select(node.pos, node.hash).where(node.pos.in_(positions)))
        nodes.update((merkle.flat_coordinates(pos), bytes(value)) for pos, value in inner_rows)
    return compute(_Fetched(nodes))


def _millis() -> int:
    return time.time_ns() // 1_000_000


class AuditLog:
    """The tamper-evident log over ``db``; ``signer`` signs tree heads (its key stays in memory)."""

    def __init__(
        self, db: Database, signer: TreeHeadSigner, *, clock_ms: Callable[[], int] = _millis
    ) -> None:
        self._db = db
        self._signer = signer
        self._clock_ms = clock_ms

    def append(self, entry: AuditEntry) -> int:
        """Append one entry; returns its index."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append entries in order, in one transaction; returns their indexes (consecutive)."""
        if not entries:
            return []
        with self._db.write() as conn:
            sql = _append_sql(conn.dialect)
            cursor = conn.connection.cursor()
            try:
                cursor.execute(*sql.lock_head.call({"head_id": HEAD_ID}))
                head = cursor.fetchone()
                if head is None:
                    raise LookupError("the audit log has no head row: run `hygie migrate`")
                first = size = int(head[0])
                frontier = _split_frontier(bytes(head[1]))
                rows: list[dict[str, object]] = []
                nodes: list[dict[str, object]] = []
                for entry in entries:
                    leaf = to_leaf(entry, size)
                    digest = merkle.leaf_hash(leaf)
                    rows.append(
                        {
                            "idx": size,
                            "leaf": leaf,
                            "leaf_hash": digest,
                            "time_us": _micros(entry),
                            "patient_ref": entry.patient,
                        }
                    )
                    nodes.extend(
                        {"pos": merkle.flat_position(level, index), "hash": value}
                        for level, index, value in merkle.push_leaf(frontier, size, digest)
                    )
                    size += 1
                cursor.executemany(*sql.insert_entry.call_many(rows))
                if nodes:
                    cursor.executemany(*sql.insert_node.call_many(nodes))
                cursor.execute(
                    *sql.update_head.call(
                        {
                            "head_id": HEAD_ID,
                            "new_size": size,
                            "new_root": merkle.fold_frontier(frontier),
                            "new_frontier": b"".join(frontier),
                        }
                    )
                )
            except conn.dialect.loaded_dbapi.Error as error:
                raise driver_error(conn, error) from error  # the transaction rolls back
            finally:
                cursor.close()
        return list(range(first, size))

    def tree_head(self) -> TreeHead:
        with self._db.read() as conn:
            return _head(conn)

    def signed_tree_head(self) -> SignedTreeHead:
        """A signed head of the current tree; signed once per tree size, then served as stored."""
        with self._db.read() as conn:
            stored = self._stored_sth(conn)
        if stored is not None:
            return stored
        with self._db.write() as conn:
            head = _head(conn, lock=True)  # appenders and other signers wait: one STH per size
            stored = self._stored_sth(conn)
            if stored is not None:
                return stored
            timestamp = self._clock_ms()
            sth = SignedTreeHead(
                tree_size=head.tree_size,
                timestamp_ms=timestamp,
                root_hash=head.root_hash,
                key_id=self._signer.key_id,
                signature=self._signer.sign(timestamp, head.tree_size, head.root_hash),
            )
            conn.execute(
                security_audit_sth.insert().values(
                    tree_size=sth.tree_size,
                    timestamp_ms=sth.timestamp_ms,
                    root=sth.root_hash,
                    key_id=sth.key_id,
                    signature=sth.signature,
                )
            )
        return sth

    @staticmethod
    def _stored_sth(conn: Connection) -> SignedTreeHead | None:
        row = conn.execute(
            select(security_audit_sth).where(
                security_audit_sth.c.tree_size
                == select(security_audit_head.c.size)
                .where(security_audit_head.c.id == HEAD_ID)
                .scalar_subquery()
            )
        ).one_or_none()
        return None if row is None else _sth(row)

    def signed_tree_heads(self) -> list[SignedTreeHead]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(security_audit_sth).order_by(security_audit_sth.c.tree_size)
            ).all()
        return [_sth(row) for row in rows]

    def root_at(self, tree_size: int) -> bytes:
        """MTH of the first ``tree_size`` entries (an earlier tree head's root)."""
        with self._db.read() as conn:
            self._check_size(conn, tree_size)
            if tree_size == 0:
                return EMPTY_ROOT
            return _with_stored_nodes(conn, lambda nodes: merkle.subtree_hash(nodes, 0, tree_size))

    def inclusion_proof(self, index: int, tree_size: int) -> InclusionProof:
        with self._db.read() as conn:
            self._check_size(conn, tree_size)
            if not 0 <= index < tree_size:
                raise ProofRangeError(f"index {index} is not in a tree of size {tree_size}")
            path = _with_stored_nodes(
                conn,
                lambda nodes: [
                    nodes.node(0, index),
                    *merkle.inclusion_path(nodes, index, tree_size),
                ],
            )
        return InclusionProof(index, tree_size, path[0], tuple(path[1:]))

    def consistency_proof(self, first: int, second: int) -> ConsistencyProof:
        with self._db.read() as conn:
            self._check_size(conn, second)
            if not 0 < first <= second:
                raise ProofRangeError(
                    f"a consistency proof needs 0 < first <= second, got {first} and {second}"
                )
            path = _with_stored_nodes(
                conn, lambda nodes: merkle.consistency_path(nodes, first, second)
            )
        return ConsistencyProof(first, second, tuple(path))

    @staticmethod
    def verify_inclusion(
        leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root_hash: bytes
    ) -> bool:
        """Does ``path`` prove that the leaf bytes ``leaf`` sit at ``index`` under ``root_hash``?"""
        return merkle.verify_inclusion(merkle.leaf_hash(leaf), index, tree_size, path, root_hash)

    @staticmethod
    def verify_consistency(
        first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
    ) -> bool:
        return merkle.verify_consistency(first, second, first_root, second_root, path)

    def entry(self, index: int) -> AuditEntry:
        with self._db.read() as conn:
            leaf = conn.execute(
                select(security_audit_entry.c.leaf).where(security_audit_entry.c.idx == index)
            ).scalar_one_or_none()
        if leaf is None:
            raise ProofRangeError(f"the audit log has no entry {index}")
        return from_leaf(bytes(leaf))[1]

    def entries_with_patient_after(
        self, start: int, *, limit: int
    ) -> tuple[int, list[tuple[int, AuditEntry]]]:
        """The log's size, and up to ``limit`` entries from index ``start`` on (oldest first)
        that name a patient: what a follower of patients' accesses reads."""
        entry = security_audit_entry.c
        with self._db.read() as conn:
            size = int(_head(conn).tree_size)
            rows = conn.execute(
                select(entry.idx, entry.leaf)
                .where(entry.idx >= start, entry.idx < size, entry.patient_ref.is_not(None))
                .order_by(entry.idx)
                .limit(limit)
            ).all()
        return size, [from_leaf(bytes(row.leaf)) for row in rows]

    def entries_for_patient(
        self, patient: str, *, limit: int = 100, before: int | None = None
    ) -> list[tuple[int, AuditEntry]]:
        """A patient's access history, newest first: ``(index, entry)`` pairs."""
        query = select(security_audit_entry.c.idx, security_audit_entry.c.leaf).where(
            security_audit_entry.c.patient_ref == patient
        )
        if before is not None:
            query = query.where(security_audit_entry.c.idx < before)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(security_audit_entry.c.idx.desc()).limit(limit))
            return [from_leaf(bytes(row.leaf)) for row in rows]

    @staticmethod
    def _check_size(conn: Connection, tree_size: int) -> None:
        size = conn.execute(
            select(security_audit_head.c.size).where(security_audit_head.c.id == HEAD_ID)
        ).scalar_one()
        if not 0 <= tree_size <= size:
            raise ProofRangeError(f"tree_size {tree_size} is beyond the log's size {size}")


@dataclass(frozen=True, slots=True)
class _AppendSql:
    lock_head: DriverStatement
    insert_entry: DriverStatement
    insert_node: DriverStatement
    update_head: DriverStatement


@cache
def _append_sql(dialect: Dialect) -> _AppendSql:
    """The append's statements for ``dialect``. The group-commit writer runs them for every
    batch on the driver's cursor, in the SQLAlchemy transaction: SQLAlchemy's execution of a
    statement (its parameters processed row by row) cost several times SQLite's own work,
    and the writer holds the GIL the event loop needs meanwhile."""
    head = security_audit_head
    return _AppendSql(
        lock_head=DriverStatement(
            select(head.c.size, head.c.frontier)
            .where(head.c.id == bindparam("head_id"))
            .with_for_update(),
            dialect,
        ),
        insert_entry=DriverStatement(security_audit_entry.insert(), dialect),
        insert_node=DriverStatement(security_audit_node.insert(), dialect),
        update_head=DriverStatement(
            head.update()
            .where(head.c.id == bindparam("head_id"))
            .values(
                size=bindparam("new_size"),
                root=bindparam("new_root"),
                frontier=bindparam("new_frontier"),
            ),
            dialect,
        ),
    )


def _split_frontier(blob: bytes) -> list[bytes]:
    return [blob[i : i + merkle.HASH_SIZE] for i in range(0, len(blob), merkle.HASH_SIZE)]


def _micros(entry: AuditEntry) -> int:
    return (entry.time - _EPOCH) // timedelta(microseconds=1)


def _head(conn: Connection, *, lock: bool = False) -> TreeHead:
    query = select(security_audit_head.c.size, security_audit_head.c.root).where(
        security_audit_head.c.id == HEAD_ID
    )
    head = conn.execute(query.with_for_update() if lock else query).one()
    return TreeHead(int(head.size), bytes(head.root))


def _sth(row: Row[Any]) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=int(row.tree_size),
        timestamp_ms=int(row.timestamp_ms),
        root_hash=bytes(row.root),
        key_id=str(row.key_id),
        signature=bytes(row.signature),
    )
