"""Checking a stored tree against a checkpoint: the monitor's and the operator's audit.

Why a separate pass: a reader that answers proofs touches a handful of tiles, so a flipped bit in
a tile nobody asked for goes unnoticed. `check_tree` recomputes the whole tree from its level-0
tiles (optionally from the entry bundles themselves), compares the root with the checkpoint's,
and checks every stored tile above level 0 against the tiles below it, reading one tile at a time
(memory stays at one right edge, whatever the size).
"""

from __future__ import annotations

from clearroom.blobs.interfaces import ObjectStore
from clearroom.tlog.bundles import read_bundle
from clearroom.tlog.errors import InvalidInput, RootMismatch
from clearroom.tlog.hashing import HASH_SIZE, leaf_hash
from clearroom.tlog.layout import TileRef, right_edge, tiles_at_level
from clearroom.tlog.tiles import TreeEdge, read_tile, split_hashes


def _first_difference(size: int, key: str, expected: bytes, actual: bytes) -> RootMismatch:
    for i in range(0, min(len(expected), len(actual)), HASH_SIZE):
        if expected[i : i + HASH_SIZE] != actual[i : i + HASH_SIZE]:
            return RootMismatch(
                size, expected[i : i + HASH_SIZE], actual[i : i + HASH_SIZE], key=key
            )
    return RootMismatch(size, expected[:HASH_SIZE], actual[:HASH_SIZE], key=key)


def check_tree(objects: ObjectStore, size: int, root: bytes, *, entries: bool = False) -> None:
    """Recompute the root of a tree of ``size`` from every level-0 tile (and, with ``entries``,
    from every entry bundle) and compare it with a checkpoint's ``root``; also check that every
    stored tile above level 0 matches the tiles below it. Raises `RootMismatch` (a wrong root
    first, then the first disagreeing tile or bundle), `InvalidTile`/`InvalidBundle` for
    malformed objects and `MissingTile`. Reads the whole tree, a tile at a time."""
    if len(root) != HASH_SIZE:
        raise InvalidInput(f"tlog: a root must be {HASH_SIZE} bytes, not {len(root)}")
    edge = TreeEdge()
    problem: RootMismatch | None = None
    for ref in tiles_at_level(size, 0):
        data = read_tile(objects, ref)
        if entries:
            bundle = TileRef(None, ref.index, ref.width)
            hashed = b"".join(leaf_hash(entry) for entry in read_bundle(objects, bundle))
            if hashed != data and problem is None:
                problem = _first_difference(size, bundle.key, data, hashed)
        full: dict[tuple[int, int], bytes] = {}
        edge.append(split_hashes(data), full)
        for (level, index), computed in full.items():
            if level and problem is None:
                stored = read_tile(objects, TileRef(level, index))
                if stored != computed:
                    problem = _first_difference(size, TileRef(level, index).key, computed, stored)
    for ref in right_edge(size):
        assert ref.level is not None
        if ref.level and problem is None:
            stored = read_tile(objects, ref)
            if stored != edge.partial(ref.level):
                problem = _first_difference(size, ref.key, edge.partial(ref.level), stored)
    actual = edge.root()
    if actual != root:
        raise RootMismatch(size, root, actual)
    if problem is not None:
        raise problem
