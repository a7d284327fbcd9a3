"""merkle.py: proofs generated from complete subtrees equal RFC 9162's recursive definitions,
verify, and stop verifying when anything about them is changed."""

from __future__ import annotations

import random

import pytest

from clearroom.tlog.errors import InvalidInput, InvalidProof
from clearroom.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash, split_point, subtree_root
from clearroom.tlog.merkle import (
    MemoryTree,
    consistency_proof,
    consistency_proof_size,
    inclusion_proof,
    inclusion_proof_size,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

N = 64
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(N + 1)]


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it, over the leaf hashes."""
    n = len(leaves)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*rfc_path(m, leaves[:k]), subtree_root(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), subtree_root(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 9162 §2.1.4.1 writes it."""
    n = len(leaves)
    if m == n:
        return [] if b else [subtree_root(leaves)]
    k = split_point(n)
    if m <= k:
        return [*rfc_subproof(m, leaves[:k], b), subtree_root(leaves[k:])]
    return [*rfc_subproof(m - k, leaves[k:], False), subtree_root(leaves[:k])]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(LEAVES[:N])


class CountingReader:
    """A NodeReader that counts reads, as a tile store would count fetches."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self.tree.node(level, index)


# --- the tree ------------------------------------------------------------------------------


def test_roots_match_subtree_root_at_every_size(tree):
    for n in range(N + 1):
        assert tree.root(n) == subtree_root(LEAVES[:n])
    assert MemoryTree().root() == EMPTY_ROOT


def test_append_and_extend_build_the_same_levels():
    one_by_one = MemoryTree()
    for i, h in enumerate(LEAVES):
        assert one_by_one.append(h) == i
        assert one_by_one.root() == subtree_root(LEAVES[: i + 1])
    in_chunks = MemoryTree()
    for start in range(0, len(LEAVES), 7):
        in_chunks.extend(LEAVES[start : start + 7])
    assert in_chunks.size == one_by_one.size == len(LEAVES)
    assert in_chunks._levels == one_by_one._levels


def test_node_is_only_served_for_complete_subtrees(tree):
    assert tree.node(0, 5) == LEAVES[5]
    assert tree.node(2, 1) == subtree_root(LEAVES[4:8])
    assert tree.node(6, 0) == tree.root()
    for level, index in [(7, 0), (6, 1), (0, N), (-1, 0), (0, -1)]:
        with pytest.raises(InvalidInput, match="not a complete subtree"):
            tree.node(level, index)


def test_the_tree_refuses_bad_leaves_and_sizes_beyond_it(tree):
    with pytest.raises(InvalidInput, match="32 bytes"):
        MemoryTree().append(b"short")
    with pytest.raises(InvalidInput, match="32 bytes"):
        MemoryTree().extend([LEAVES[0], b"x" * 33])
    with pytest.raises(InvalidInput, match="beyond"):
        tree.root(N + 1)
    with pytest.raises(InvalidInput, match="beyond"):
        tree.inclusion_proof(0, N + 1)
    with pytest.raises(InvalidInput, match="beyond"):
        tree.consistency_proof(1, N + 1)


# --- generation against the RFC's definitions ----------------------------------------------


def test_inclusion_proofs_for_every_index_and_size(tree):
    for n in range(1, N + 1):
        root = tree.root(n)
        for i in range(n):
            proof = inclusion_proof(tree, n, i)
            assert proof == rfc_path(i, LEAVES[:n])
            assert len(proof) == inclusion_proof_size(i, n)
            verify_inclusion(LEAVES[i], i, n, proof, root)
            assert root_from_inclusion_proof(LEAVES[i], i, n, proof) == root


def test_consistency_proofs_for_every_pair_of_sizes(tree):
    for n in range(1, N + 1):
        for m in range(1, n + 1):
            proof = consistency_proof(tree, m, n)
            assert proof == rfc_subproof(m, LEAVES[:n], True)
            if m < n:
                assert len(proof) == consistency_proof_size(m, n)
            verify_consistency(m, n, proof, tree.root(m), tree.root(n))


def test_generation_refuses_what_has_no_proof(tree):
    with pytest.raises(InvalidInput, match="not in a tree of size 4"):
        inclusion_proof(tree, 4, 4)
    with pytest.raises(InvalidInput, match="not in a tree of size 0"):
        inclusion_proof(tree, 0, 0)
    with pytest.raises(InvalidInput, match="0 < old size"):
        consistency_proof(tree, 0, 4)
    with pytest.raises(InvalidInput, match="0 < old size"):
        consistency_proof(tree, 5, 4)
    with pytest.raises(InvalidInput, match="outside"):
        root_hash(tree, -1)


def test_proofs_read_a_logarithmic_number_of_nodes():
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(100_003))
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randrange(2, tree.size + 1)
        reader = CountingReader(tree)
        inclusion_proof(reader, n, rng.randrange(n))
        assert reader.reads <= 2 * n.bit_length()
        reader = CountingReader(tree)
        consistency_proof(reader, rng.randrange(1, n), n)
        assert reader.reads <= 2 * n.bit_length()
        reader = CountingReader(tree)
        root_hash(reader, n)
        assert reader.reads == n.bit_count()


# --- verification refuses tampering --------------------------------------------------------


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 2), (3, 7), (5, 8), (12, 13), (0, 64)])
def test_inclusion_fails_when_anything_changes(tree, index, size):
    root, leaf = tree.root(size), LEAVES[index]
    proof = inclusion_proof(tree, size, index)
    verify_inclusion(leaf, index, size, proof, root)
    for k in range(len(proof)):
        bad = [*proof]
        bad[k] = flip(bad[k], k % 8)
        with pytest.raises(InvalidProof, match="gives root"):
            verify_inclusion(leaf, index, size, bad, root)
    with pytest.raises(InvalidProof, match="wrong inclusion proof length"):
        verify_inclusion(leaf, index, size, [*proof, LEAVES[0]], root)
    if proof:
        with pytest.raises(InvalidProof, match="wrong inclusion proof length"):
            verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(InvalidProof):
        verify_inclusion(flip(leaf), index, size, proof, root)
    with pytest.raises(InvalidProof):
        verify_inclusion(leaf, index, size, proof, flip(root))
    for other in {index + 1, index ^ 1} - {index}:
        if other < size:
            with pytest.raises(InvalidProof):
                verify_inclusion(leaf, other, size, proof, root)


@pytest.mark.parametrize(("m", "n"), [(1, 2), (1, 8), (3, 7), (4, 8), (6, 8), (7, 64), (63, 64)])
def test_consistency_fails_when_anything_changes(tree, m, n):
    old, new = tree.root(m), tree.root(n)
    proof = consistency_proof(tree, m, n)
    verify_consistency(m, n, proof, old, new)
    for k in range(len(proof)):
        bad = [*proof]
        bad[k] = flip(bad[k], k % 8)
        with pytest.raises(InvalidProof, match="gives"):
            verify_consistency(m, n, bad, old, new)
    with pytest.raises(InvalidProof, match="wrong consistency proof length"):
        verify_consistency(m, n, [*proof, LEAVES[0]], old, new)
    with pytest.raises(InvalidProof, match="wrong consistency proof length"):
        verify_consistency(m, n, proof[:-1], old, new)
    with pytest.raises(InvalidProof, match="wrong consistency proof length"):
        verify_consistency(m, n, [], old, new)
    # A power-of-two old tree seeds the walk with its own root: a wrong one shows in the new root.
    with pytest.raises(InvalidProof, match="new root" if m & (m - 1) == 0 else "old root"):
        verify_consistency(m, n, proof, flip(old), new)
    with pytest.raises(InvalidProof, match="new root"):
        verify_consistency(m, n, proof, old, flip(new))
    with pytest.raises(InvalidProof):
        verify_consistency(m, n, proof, new, old)
    with pytest.raises(InvalidProof):
        verify_consistency(m, n + 1, proof, old, tree.root(n + 1) if n < N else new)


def test_verification_edge_rules_and_messages(tree):
    root, h = tree.root(4), LEAVES[0]
    proof = inclusion_proof(tree, 4, 0)
    with pytest.raises(InvalidProof, match="leaf index 4 is not in a tree of size 4"):
        verify_inclusion(h, 4, 4, proof, root)
    with pytest.raises(InvalidProof, match="leaf index 0 is not in a tree of size 0"):
        verify_inclusion(h, 0, 0, [], EMPTY_ROOT)
    with pytest.raises(InvalidProof, match="leaf hash is 31 bytes"):
        verify_inclusion(h[:31], 0, 4, proof, root)
    with pytest.raises(InvalidProof, match="root hash is 0 bytes"):
        verify_inclusion(h, 0, 4, proof, b"")
    with pytest.raises(InvalidProof, match="proof hash #1 is 33 bytes"):
        verify_inclusion(h, 0, 4, [proof[0], proof[1] + b"\0"], root)
    with pytest.raises(InvalidProof, match="empty tree"):
        verify_consistency(0, 4, [], EMPTY_ROOT, root)
    with pytest.raises(InvalidProof, match="empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(InvalidProof, match="old size 5 is larger than new size 4"):
        verify_consistency(5, 4, [], root, root)
    with pytest.raises(InvalidProof, match="old root hash is 12 bytes"):
        verify_consistency(4, 5, [root, root], b"x" * 12, root)
    verify_consistency(4, 4, [], b"x" * 12, b"x" * 12)  # nothing hashed: equality is all (vectors)
    with pytest.raises(InvalidProof, match="length 1 for equal sizes"):
        verify_consistency(4, 4, [root], root, root)
    with pytest.raises(InvalidProof, match="two different roots for size 4"):
        verify_consistency(4, 4, [], root, tree.root(5))
    verify_consistency(4, 4, [], root, root)


def test_an_odd_leaf_is_never_duplicated():
    """A classic Merkle bug: pairing the last odd node with itself. [a, b, c] and [a, b, c, c]
    must have different roots, and no proof for one verifies against the other."""
    a, b, c = LEAVES[:3]
    three, four = MemoryTree([a, b, c]), MemoryTree([a, b, c, c])
    assert three.root() == node_hash(node_hash(a, b), c) != four.root()
    with pytest.raises(InvalidProof):
        verify_inclusion(c, 3, 4, three.inclusion_proof(2), four.root())


# --- randomized, at larger sizes -----------------------------------------------------------


def test_random_proofs_up_to_a_hundred_thousand_leaves():
    rng = random.Random(20240917)
    leaves = [leaf_hash(rng.randbytes(8)) for _ in range(100_000)]
    tree = MemoryTree(leaves)
    assert tree.root() == subtree_root(leaves)
    for _ in range(300):
        n = rng.randrange(1, tree.size + 1)
        i = rng.randrange(n)
        proof = tree.inclusion_proof(i, n)
        verify_inclusion(leaves[i], i, n, proof, tree.root(n))
        with pytest.raises(InvalidProof):
            verify_inclusion(leaves[i], i, n, proof, tree.root(n - 1) if n > 1 else flip(leaves[0]))
        m = rng.randrange(1, n + 1)
        cproof = tree.consistency_proof(m, n)
        verify_consistency(m, n, cproof, tree.root(m), tree.root(n))
        if m < n and cproof:
            k = rng.randrange(len(cproof))
            cproof[k] = flip(cproof[k], rng.randrange(8))
            with pytest.raises(InvalidProof):
                verify_consistency(m, n, cproof, tree.root(m), tree.root(n))


@pytest.mark.slow
def test_a_million_leaf_tree_proves_inclusion():
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(1_000_000)]
    tree = MemoryTree()
    tree.extend(leaves)
    assert tree.size == 1_000_000
    verify_inclusion(
        leaves[765_432], 765_432, tree.size, tree.inclusion_proof(765_432), tree.root()
    )
