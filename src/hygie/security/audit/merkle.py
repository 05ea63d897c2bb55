"""Merkle tree hashing, proofs and their verification as RFC 9162 (CT v2) section 2.1 defines.

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right); a tree of
``n`` leaves splits at ``k``, the largest power of two smaller than ``n``. Proofs are built
from a :class:`NodeReader` that returns the hash of any *complete* subtree (``2**level``
leaves starting at ``index * 2**level``); every range the RFC algorithms visit decomposes
into at most O(log n) such subtrees, so a proof never reads the whole tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def flat_position(level: int, index: int) -> int:
    """The in-order number of subtree (level, index) when nodes and leaves are laid out flat:
    leaf i is 2i, and every subtree of leaves a..b-1 numbers inside 2a..2b-2."""
    return (index << (level + 1)) + (1 << level) - 1


def flat_coordinates(position: int) -> tuple[int, int]:
    level = (position ^ (position + 1)).bit_length() - 1  # the trailing ones
    return level, position >> (level + 1)


class NodeReader(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree of ``2**level`` leaves from ``index * 2**level``."""
        ...


def subtree_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]), from complete subtrees where the range is one, else by the RFC split."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return reader.node(level, start >> level)
    k = split_point(size)
    return node_hash(subtree_hash(reader, start, start + k), subtree_hash(reader, start + k, end))


def inclusion_path(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf-side first."""
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(reader, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(reader: NodeReader, first: int, second: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1 (0 < m <= n)."""
    path: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(subtree_hash(reader, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(reader, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        path.append(subtree_hash(reader, start, end))
    path.reverse()
    return path


def verify_inclusion(
    leaf_digest: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` prove leaf ``index`` (by its hash) in the tree ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_digest
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does ``path`` prove tree ``first_root`` a prefix of ``second_root``?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return len(path) == 0 and first_root == second_root
    if not path:
        return False
    nodes = list(path)
    if first & (first - 1) == 0:  # a power of two: the old root is itself the first node
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def fold_frontier(frontier: Sequence[bytes]) -> bytes:
    """The root of a tree given its complete subtrees, largest (leftmost) first."""
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def push_leaf(frontier: list[bytes], size: int, digest: bytes) -> list[tuple[int, int, bytes]]:
    """Append leaf ``size`` (by hash) to ``frontier`` in place, like a binary increment.

    Returns the complete subtrees it closes, as ``(level, index, hash)`` with level >= 1.
    """
    closed: list[tuple[int, int, bytes]] = []
    current, level, position = digest, 0, size
    while position & 1:
        current = node_hash(frontier.pop(), current)
        level += 1
        position >>= 1
        closed.append((level, position, current))
    frontier.append(current)
    return closed
