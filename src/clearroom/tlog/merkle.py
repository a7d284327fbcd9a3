"""Merkle proofs for the log: generate them from complete subtrees, verify them from bytes alone.

Why this shape: a tile-backed log can only serve *complete* subtrees cheaply (``node(level,
index)``, see :class:`~clearroom.tlog.hashing.NodeReader`), so proof generation (RFC 9162
§2.1.3.1 PATH, §2.1.4.1 SUBPROOF) is written over node ranges and builds the one incomplete
right-hand subtree a proof may need out of complete ones: O(log n) node reads per proof.
Verification (§2.1.3.2, §2.1.4.2) is a pure function over bytes, run by auditors who trust
nothing else, and follows the RFC's numbered steps after checking every input's shape first,
so each failure says which rule broke. :class:`MemoryTree` is the in-memory reference tree.

Example::

    tree = MemoryTree()
    tree.extend(leaf_hash(e) for e in (b"a", b"b", b"c"))
    proof = inclusion_proof(tree, 3, 1)
    verify_inclusion(leaf_hash(b"b"), 1, 3, proof, tree.root())
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from clearroom.tlog.errors import InvalidInput, InvalidProof
from clearroom.tlog.hashing import EMPTY_ROOT, HASH_SIZE, NodeReader, node_hash, split_point

__all__ = [
    "MemoryTree",
    "consistency_proof",
    "consistency_proof_size",
    "inclusion_proof",
    "inclusion_proof_size",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

_MAX_SIZE = (1 << 64) - 1
"""Tree sizes and indexes are uint64 on the wire (checkpoints, tiles, RFC 9162 structures)."""


# --- generation ----------------------------------------------------------------------------


def _range_hash(reader: NodeReader, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, where ``start`` is aligned to a power of two at least
    ``end - start`` (true of every range PATH and SUBPROOF visit). The range is the complete
    subtrees of its size's binary decomposition, largest first; MTH folds them from the right."""
    parts: list[bytes] = []
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        parts.append(reader.node(level, start >> level))
        start += 1 << level
        remaining -= 1 << level
    result = parts.pop()
    while parts:
        result = node_hash(parts.pop(), result)
    return result


def _node_or_range(reader: NodeReader, start: int, end: int) -> bytes:
    n = end - start
    if n & (n - 1) == 0:  # complete subtree: one read
        level = n.bit_length() - 1
        return reader.node(level, start >> level)
    return _range_hash(reader, start, end)


def _check_size(size: int, what: str) -> None:
    if not 0 <= size <= _MAX_SIZE:
        raise InvalidInput(f"tlog: {what} {size} is outside 0..2^64-1")


def root_hash(reader: NodeReader, size: int) -> bytes:
    """MTH(D[0:size]) (RFC 9162 §2.1.1); the empty tree's root is SHA-256 of nothing."""
    _check_size(size, "tree size")
    return EMPTY_ROOT if size == 0 else _range_hash(reader, 0, size)


def inclusion_proof(reader: NodeReader, size: int, index: int) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf-side hash first."""
    _check_size(size, "tree size")
    if not 0 <= index < size:
        raise InvalidInput(f"tlog: leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root; siblings are collected root-side first
        k = split_point(end - start)
        if index < start + k:  # go left: the right sibling may be incomplete (at most once)
            path.append(_node_or_range(reader, start + k, end))
            end = start + k
        else:  # go right: the left sibling is a complete subtree of k leaves
            path.append(_node_or_range(reader, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) = SUBPROOF(old_size, D[0:new_size], true) (RFC 9162
    §2.1.4.1). Empty when the sizes are equal; undefined (an error) from the empty tree."""
    _check_size(new_size, "tree size")
    if not 0 < old_size <= new_size:
        raise InvalidInput(
            f"tlog: no consistency proof from size {old_size} to size {new_size} "
            "(need 0 < old size <= new size)"
        )
    proof: list[bytes] = []
    m, start, end, whole = old_size, 0, new_size, True
    while m != end:  # SUBPROOF(m - start, D[start:end], whole)
        k = split_point(end - start)
        if m - start <= k:  # the old tree lies in the left subtree; the right one is new
            proof.append(_node_or_range(reader, start + k, end))
            end = start + k
        else:  # the left subtree is shared and complete; recurse right, no longer the root
            proof.append(_node_or_range(reader, start, start + k))
            start += k
            whole = False
    if not whole:  # SUBPROOF(m, D[m], false) = [MTH(D[m])]; a complete subtree here
        proof.append(_node_or_range(reader, start, end))
    proof.reverse()
    return proof


def inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes PATH(index, D[0:size]) has: the levels where the leaf's path and the
    tree's last leaf's path differ, plus one per complete left subtree on the right border."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_size(old_size: int, new_size: int) -> int:
    """How many hashes PROOF(old_size, D[0:new_size]) has, for 0 < old_size < new_size."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros of old_size
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    seed = 0 if old_size == 1 << shift else 1  # the old root's own subtree, unless implied
    return seed + (inner - shift) + border


# --- verification --------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"tlog: {what} is {len(value)} bytes, not a {HASH_SIZE}-byte hash")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash #{i}")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof commits to (RFC 9162 §2.1.3.2 steps 1-4 and the sn check of
    step 5). Compare it with a trusted root yourself, or call :func:`verify_inclusion`."""
    # Step 1: the index must be inside the tree.
    if not 0 <= index < size or size > _MAX_SIZE:
        raise InvalidProof(f"tlog: leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_proof_hashes(proof)
    want = inclusion_proof_size(index, size)
    if len(proof) != want:
        raise InvalidProof(
            f"tlog: wrong inclusion proof length {len(proof)} for leaf {index} of a tree of "
            f"size {size} (want {want})"
        )
    # Steps 2-3.
    fn, sn, r = index, size - 1, leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:  # 4a
            raise InvalidProof("tlog: inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while fn and not fn & 1:  # 4b.ii
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    # Step 5 (first half).
    if sn != 0:
        raise InvalidProof("tlog: inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``
    (RFC 9162 §2.1.3.2). Returns nothing; raises :class:`InvalidProof` on any failure."""
    _check_hash(root, "root hash")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    # Step 5 (second half).
    if computed != root:
        raise InvalidProof(
            f"tlog: inclusion proof for leaf {index} of size {size} gives root "
            f"{computed.hex()}, not the expected {root.hex()}"
        )


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the tree of
    ``old_size`` leaves with ``old_root`` (RFC 9162 §2.1.4.2). Raises :class:`InvalidProof`.

    Edge rules: every hash that is used must be 32 bytes; sizes must not go backwards; a proof
    from the empty tree is refused (it proves nothing, and RFC 9162 defines none); equal sizes
    need an empty proof and equal roots."""
    if old_size < 0 or new_size > _MAX_SIZE:
        raise InvalidProof(f"tlog: tree sizes {old_size} and {new_size} are outside 0..2^64-1")
    if old_size > new_size:
        raise InvalidProof(f"tlog: old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise InvalidProof("tlog: a consistency proof from the empty tree (size 0) proves nothing")
    if old_size == new_size:
        # Nothing is hashed here, so only equality matters (as in RFC 9162 and the reference
        # test vectors); checkpoints reject roots that are not 32 bytes when they are parsed.
        if proof:
            raise InvalidProof(
                f"tlog: wrong consistency proof length {len(proof)} for equal sizes (want 0)"
            )
        if old_root != new_root:
            raise InvalidProof(
                f"tlog: two different roots for size {old_size}: {old_root.hex()} and "
                f"{new_root.hex()}"
            )
        return
    _check_hash(old_root, "old root hash")
    _check_hash(new_root, "new root hash")
    _check_proof_hashes(proof)
    want = consistency_proof_size(old_size, new_size)
    if len(proof) != want:  # also step 1: an empty proof is never right here
        raise InvalidProof(
            f"tlog: wrong consistency proof length {len(proof)} from size {old_size} to size "
            f"{new_size} (want {want})"
        )
    # Step 2: a power-of-two old tree is itself a node of the new one; its root seeds the walk.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3-4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:  # 6a
            raise InvalidProof("tlog: consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:  # 6b.iii
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise InvalidProof("tlog: consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise InvalidProof(
            f"tlog: consistency proof from size {old_size} gives old root {fr.hex()}, "
            f"not the expected {old_root.hex()}"
        )
    if sr != new_root:
        raise InvalidProof(
            f"tlog: consistency proof to size {new_size} gives new root {sr.hex()}, "
            f"not the expected {new_root.hex()}"
        )


# --- the in-memory tree --------------------------------------------------------------------


class MemoryTree:
    """An append-only Merkle tree held in memory, as lists of complete-subtree hashes per level
    (``levels[l][i]`` is ``node(l, i)``). An append hashes at most log2(n) new nodes; it never
    recomputes old ones. Not thread-safe: one writer, or a lock around it."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; returns its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise InvalidInput(f"tlog: a leaf hash is {HASH_SIZE} bytes, not {len(leaf_hash)}")
        levels = self._levels
        index = len(levels[0])
        h = leaf_hash
        level = 0
        while True:
            row = levels[level]
            row.append(h)
            if len(row) & 1:
                return index
            h = node_hash(row[-2], h)
            level += 1
            if level == len(levels):
                levels.append([])

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes, hashing each new level in one pass (the bulk path)."""
        new = list(leaf_hashes)
        for h in new:
            if len(h) != HASH_SIZE:
                raise InvalidInput(f"tlog: a leaf hash is {HASH_SIZE} bytes, not {len(h)}")
        levels = self._levels
        levels[0].extend(new)
        sha256 = hashlib.sha256
        level = 0
        while len(levels[level]) > 1:
            row = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            parents = levels[level + 1]
            first = 2 * len(parents)
            parents.extend(
                [
                    sha256(b"\x01" + row[i] + row[i + 1]).digest()
                    for i in range(first, len(row) - 1, 2)
                ]
            )
            level += 1

    def node(self, level: int, index: int) -> bytes:
        """The root of the complete subtree of ``2**level`` leaves starting at leaf
        ``index * 2**level`` (the :class:`NodeReader` protocol)."""
        if (
            level < 0
            or index < 0
            or level >= len(self._levels)
            or index >= len(self._levels[level])
        ):
            raise InvalidInput(
                f"tlog: node (level {level}, index {index}) is not a complete subtree of a tree "
                f"of size {self.size}"
            )
        return self._levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        """The root at ``size`` (default: now). Any earlier size can be asked for too."""
        size = self.size if size is None else size
        if size > self.size:
            raise InvalidInput(f"tlog: size {size} is beyond the tree's {self.size} leaves")
        return root_hash(self, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise InvalidInput(f"tlog: size {size} is beyond the tree's {self.size} leaves")
        return inclusion_proof(self, size, index)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self.size if new_size is None else new_size
        if new_size > self.size:
            raise InvalidInput(f"tlog: size {new_size} is beyond the tree's {self.size} leaves")
        return consistency_proof(self, old_size, new_size)
