"""RFC 9162 hashing, proofs and verification against the RFC's recursive definitions, 1..64."""

from __future__ import annotations

import pytest

from hygie.security.audit import merkle
from tests.security.test_audit_helpers import mth, path, subproof

SIZES = range(1, 65)
LEAVES = [f"leaf {i}".encode() for i in range(64)]


class ReferenceNodes:
    """Complete subtrees computed by the reference MTH, as the stored tables would hold them."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        span = self.leaves[index << level : (index + 1) << level]
        assert len(span) == 1 << level, "asked for a subtree that is not complete"
        return mth(span)


def test_subtree_hash_is_mth_for_every_size() -> None:
    for n in SIZES:
        assert merkle.subtree_hash(ReferenceNodes(LEAVES[:n]), 0, n) == mth(LEAVES[:n])


def test_frontier_gives_the_root_and_closes_every_complete_subtree() -> None:
    frontier: list[bytes] = []
    closed: set[tuple[int, int, bytes]] = set()
    for n in SIZES:
        closed.update(merkle.push_leaf(frontier, n - 1, merkle.leaf_hash(LEAVES[n - 1])))
        assert merkle.fold_frontier(frontier) == mth(LEAVES[:n])
        assert len(frontier) == bin(n).count("1")
    expected = {
        (level, i, mth(LEAVES[i << level : (i + 1) << level]))
        for level in range(1, 7)
        for i in range(64 >> level)
    }
    assert closed == expected


def test_flat_positions_number_every_subtree_once_inside_its_leaves() -> None:
    seen = set()
    for level in range(9):
        for index in range(256 >> level):
            position = merkle.flat_position(level, index)
            assert merkle.flat_coordinates(position) == (level, index)
            first, last = index << level, ((index + 1) << level) - 1
            assert 2 * first <= position <= 2 * last
            seen.add(position)
    assert seen == set(range(511))


def test_every_inclusion_proof_matches_the_rfc_and_verifies() -> None:
    for n in SIZES:
        leaves, root = LEAVES[:n], mth(LEAVES[:n])
        for m in range(n):
            reader = ReferenceNodes(leaves)
            proof = merkle.inclusion_path(reader, m, n)
            assert proof == path(m, leaves), (m, n)
            assert reader.reads <= 2 * n.bit_length() ** 2  # O(log n) lookups, not the tree
            digest = merkle.leaf_hash(leaves[m])
            assert merkle.verify_inclusion(digest, m, n, proof, root)
            assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), m, n, proof, root)
            if n > 1:
                assert not merkle.verify_inclusion(digest, (m + 1) % n, n, proof, root)
                assert not merkle.verify_inclusion(digest, m, n, proof[:-1], root)
                flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                assert not merkle.verify_inclusion(digest, m, n, flipped, root)


def test_every_consistency_proof_matches_the_rfc_and_verifies() -> None:
    for n in SIZES:
        for m in range(1, n + 1):
            leaves = LEAVES[:n]
            proof = merkle.consistency_path(ReferenceNodes(leaves), m, n)
            assert proof == subproof(m, leaves, True), (m, n)
            old, new = mth(LEAVES[:m]), mth(leaves)
            assert merkle.verify_consistency(m, n, old, new, proof)
            if m < n:
                assert not merkle.verify_consistency(m, n, new, new, proof)
                assert not merkle.verify_consistency(m, n, old, old, proof)
                assert not merkle.verify_consistency(m, n, old, new, proof[1:])
                assert not merkle.verify_consistency(m, n, old, new, [*proof, proof[0]])


def test_consistency_of_a_tree_with_a_rewritten_past_fails() -> None:
    forged = [*LEAVES[:5], b"rewritten", *LEAVES[6:20]]
    proof = merkle.consistency_path(ReferenceNodes(forged), 8, 20)
    assert not merkle.verify_consistency(8, 20, mth(LEAVES[:8]), mth(forged), proof)


@pytest.mark.parametrize(("first", "second"), [(0, 5), (6, 5), (-1, 3)])
def test_consistency_sizes_out_of_order_are_refused(first: int, second: int) -> None:
    assert not merkle.verify_consistency(first, second, b"x" * 32, b"y" * 32, [b"z" * 32])
