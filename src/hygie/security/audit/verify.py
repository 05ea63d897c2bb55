"""``hygie audit verify``: recompute the whole tree from the stored leaves and compare.

In index order, each leaf must be present, canonical, carry its own index, hash to its
stored leaf hash and agree with its lookup columns; every complete subtree it closes must
match the stored node; at every size with a signed tree head the recomputed root must be
the signed root and the signature must verify. The first disagreement names the entry.
Runs in one snapshot (REPEATABLE READ on PostgreSQL, SQLite's read transaction), reading
leaves and nodes by chunks, so memory stays flat at any size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select

from hygie.db.engine import Database
from hygie.security.audit import merkle
from hygie.security.audit.entry import from_leaf
from hygie.security.audit.errors import InvalidEntry
from hygie.security.audit.service import EMPTY_ROOT, HEAD_ID
from hygie.security.audit.signing import TreeHeadVerifier
from hygie.security.audit.tables import (
    security_audit_entry,
    security_audit_head,
    security_audit_node,
    security_audit_sth,
)

CHUNK = 1 << 14  # leaves read per query
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    tree_size: int
    signed_heads: int
    first_bad_index: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Tampered(Exception):
    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index = index
        self.problem = problem


def verify_log(db: Database, verifier: TreeHeadVerifier, *, chunk: int = CHUNK) -> VerifyReport:
    with _snapshot(db) as conn:
        head = conn.execute(
            select(security_audit_head).where(security_audit_head.c.id == HEAD_ID)
        ).one_or_none()
        sths = {int(row.tree_size): row for row in conn.execute(select(security_audit_sth))}
        if head is None:
            return VerifyReport(0, len(sths), None, "the log's head row was removed")
        size = int(head.size)
        try:
            _check_signatures(sths, verifier)
            _check_extra_rows(conn, size, below=True)
            frontier = _scan(conn, size, sths, chunk)
            _check_extra_rows(conn, size, below=False)
            root = merkle.fold_frontier(frontier) if frontier else EMPTY_ROOT
            if root != bytes(head.root) or b"".join(frontier) != bytes(head.frontier):
                raise _Tampered(None, "the stored head does not match the recomputed tree")
            for tree_size in sths:
                if tree_size > size:
                    raise _Tampered(
                        size,
                        f"the signed tree head of size {tree_size} covers entries "
                        f"{size}..{tree_size - 1}, which are gone",
                    )
        except _Tampered as tampered:
            return VerifyReport(size, len(sths), tampered.index, tampered.problem)
    return VerifyReport(size, len(sths))


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _check_signatures(sths: dict[int, Row[Any]], verifier: TreeHeadVerifier) -> None:
    for tree_size, row in sorted(sths.items()):
        signed = verifier.is_valid(
            bytes(row.signature),
            int(row.timestamp_ms),
            tree_size,
            bytes(row.root),
        )
        if not signed:
            raise _Tampered(
                None,
                f"the signed tree head of size {tree_size} does not verify with the "
                f"audit key {verifier.key_id} (altered, or signed by another key)",
            )


def _check_extra_rows(conn: Connection, size: int, *, below: bool) -> None:
    idx = security_audit_entry.c.idx
    condition = idx < 0 if below else idx >= size
    extra = conn.execute(select(func.min(idx)).where(condition)).scalar_one_or_none()
    if extra is not None:
        raise _Tampered(int(extra), f"entry {extra} was inserted outside the log (size {size})")


def _scan(conn: Connection, size: int, sths: dict[int, Row[Any]], chunk: int) -> list[bytes]:
    if 0 in sths and bytes(sths[0].root) != EMPTY_ROOT:
        raise _Tampered(None, "the signed tree head of size 0 is not the empty tree's")
    frontier: list[bytes] = []
    expected = 0
    signed_ok = 0  # the largest signed size already matched, to narrow a later mismatch
    for start in range(0, size, chunk):
        end = min(start + chunk, size)
        stored_nodes = _nodes_closed_in(conn, start, end)
        rows = conn.execute(
            select(security_audit_entry)
            .where(security_audit_entry.c.idx >= start, security_audit_entry.c.idx < end)
            .order_by(security_audit_entry.c.idx)
        )
        for row in rows:
            if row.idx != expected:
                raise _Tampered(expected, f"entry {expected} is missing (removed)")
            digest = _check_leaf(row)
            for level, index, value in merkle.push_leaf(frontier, expected, digest):
                if stored_nodes.get((level, index)) != value:
                    first, last = index << level, ((index + 1) << level) - 1
                    raise _Tampered(
                        first,
                        f"entries {first}..{last} do not match their stored subtree hash "
                        "(an entry or a hash there was rewritten)",
                    )
            expected += 1
            sth = sths.get(expected)
            if sth is not None:
                if merkle.fold_frontier(frontier) != bytes(sth.root):
                    raise _Tampered(
                        signed_ok,
                        f"entries {signed_ok}..{expected - 1} differ from the signed "
                        f"tree head of size {expected}",
                    )
                signed_ok = expected
        if expected != end:
            raise _Tampered(expected, f"entry {expected} is missing (removed)")
    return frontier


def _check_leaf(row: Row[Any]) -> bytes:
    index = int(row.idx)
    leaf = bytes(row.leaf)
    digest = merkle.leaf_hash(leaf)
    if digest != bytes(row.leaf_hash):
        raise _Tampered(index, f"entry {index} was altered (its leaf no longer has its hash)")
    try:
        carried, entry = from_leaf(leaf)
    except InvalidEntry as exc:
        raise _Tampered(index, f"entry {index} is not a valid audit record: {exc}") from None
    if carried != index:
        raise _Tampered(index, f"entry {index} holds the record written as entry {carried}")
    time_us = (entry.time - _EPOCH) // timedelta(microseconds=1)
    if row.time_us != time_us or row.patient_ref != entry.patient:
        raise _Tampered(index, f"entry {index}'s time or patient column differs from its record")
    return digest


def _nodes_closed_in(conn: Connection, start: int, end: int) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes that leaves ``start``..``end - 1`` complete: those inside the
    range (a key range) and the few that began before ``start`` (one per level at most)."""
    node = security_audit_node.c
    straddling = []
    for level in range(1, end.bit_length() + 1):
        first_leaf = (start >> level) << level  # of the level-``level`` node holding ``start``
        if first_leaf < start and first_leaf + (1 << level) <= end:
            straddling.append(merkle.flat_position(level, start >> level))
    inside = node.pos.between(2 * start, 2 * end - 2)
    query = select(node.pos, node.hash).where(or_(inside, node.pos.in_(straddling)))
    return {merkle.flat_coordinates(pos): bytes(value) for pos, value in conn.execute(query)}
