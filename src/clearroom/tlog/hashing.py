"""RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing: leaves are SHA-256(0x00 ‖ data), interior nodes
SHA-256(0x01 ‖ left ‖ right); a tree of n leaves splits at the largest power of two below n."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves (or over equal-sized complete subtrees' roots)."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = split_point(len(hashes))
    return node_hash(subtree_root(hashes[:k]), subtree_root(hashes[k:]))


class NodeReader(Protocol):
    """Where proofs get their hashes: ``node(level, index)`` is the root of the complete subtree
    of ``2**level`` leaves that starts at leaf ``index * 2**level``. Level 0 is the leaf hash."""

    def node(self, level: int, index: int) -> bytes: ...
