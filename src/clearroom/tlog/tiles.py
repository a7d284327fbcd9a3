"""The Merkle tree as C2SP tlog-tiles in an `ObjectStore`: integrating batches (`TileLog`) and
reading nodes back (`TileReader`); `clearroom.tlog.integrity` audits a whole stored tree.

Why this shape: the tiles *are* the log — every proof, monitor and witness reads them — so the
integrator must never fork them. Full tiles and bundles are written once (``overwrite=False``)
and an existing object must hold the same bytes, which makes re-running an integration after a
crash harmless and a divergent one loud (`TileConflict`). Integration touches only the right
edge: the partial tile of each level, kept in memory between batches (reloaded from the store
when the caller's size differs), with each partial tile's compact range so a batch of ``k``
leaves costs about ``2k`` hashes whatever the tree size. A single integrator per log is assumed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from clearroom.blobs.errors import ObjectExists, ObjectNotFound
from clearroom.blobs.interfaces import ObjectStore
from clearroom.tlog.bundles import BundleBuilder, check_entries, read_bundle
from clearroom.tlog.errors import (
    InvalidBundle,
    InvalidInput,
    InvalidTile,
    InvalidTilePath,
    MissingTile,
    TileConflict,
)
from clearroom.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from clearroom.tlog.layout import (
    TILE_WIDTH,
    TileRef,
    changed_tiles,
    level_size,
    node_location,
    parse_key,
    partials_prefix,
    right_edge,
    tile_for,
    tile_levels,
)

FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE


# --- Object I/O ---------------------------------------------------------------------------------


def write_once(objects: ObjectStore, key: str, data: bytes) -> bool:
    """Store an immutable object; True if created, False if the same bytes were already there.
    Different bytes raise `TileConflict`: tiles and bundles are never rewritten."""
    try:
        objects.put(key, data, overwrite=False)
    except ObjectExists:
        if objects.get(key) != data:
            raise TileConflict(key) from None
        return False
    return True


def _check_length(key: str, data: bytes, width: int) -> bytes:
    if len(data) % HASH_SIZE:
        raise InvalidTile(
            key, f"{len(data)} bytes is not a whole number of {HASH_SIZE}-byte hashes"
        )
    if len(data) != width * HASH_SIZE:
        raise InvalidTile(key, f"holds {len(data) // HASH_SIZE} hashes where {width} are expected")
    return data


def read_tile(objects: ObjectStore, ref: TileRef) -> bytes:
    """The ``ref.width`` hashes of a tile, concatenated; length-checked (`InvalidTile`). A
    partial tile that is gone (logs may delete it once the full tile exists) is read from the
    full tile's prefix."""
    try:
        return _check_length(ref.key, objects.get(ref.key), ref.width)
    except ObjectNotFound:
        if not ref.is_partial:
            raise MissingTile(ref.key) from None
    full = ref.full
    try:
        data = objects.get(full.key)
    except ObjectNotFound:
        raise MissingTile(ref.key) from None
    return _check_length(full.key, data, TILE_WIDTH)[: ref.width * HASH_SIZE]


def split_hashes(data: bytes) -> list[bytes]:
    """The 32-byte hashes of a tile's bytes."""
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _perfect_root(hashes: list[bytes]) -> bytes:
    """Root of a perfect subtree (``len(hashes)`` a power of two) over stored hashes."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def _fold(roots: Sequence[bytes]) -> bytes:
    """Root of a tree made of perfect subtrees of strictly decreasing sizes, left to right."""
    if not roots:
        return EMPTY_ROOT
    root = roots[-1]
    for left in reversed(roots[:-1]):
        root = node_hash(left, root)
    return root


# --- The right edge in memory -------------------------------------------------------------------


class _Level:
    """The partial tile of one level: its hashes, and the roots of its perfect subtrees."""

    __slots__ = ("hashes", "stack")

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.stack: list[bytes] = []

    def copy(self) -> _Level:
        clone = _Level()
        clone.hashes, clone.stack = self.hashes[:], self.stack[:]
        return clone

    def push(self, value: bytes) -> bytes | None:
        """Add a hash; returns the tile's root when this hash completes the tile."""
        hashes, stack = self.hashes, self.stack
        hashes.append(value)
        stack.append(value)
        count = len(hashes)
        while not count & 1:  # merge equal-sized subtrees, like a binary counter's carries
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            count >>= 1
        return stack[0] if len(hashes) == TILE_WIDTH else None


class TreeEdge:
    """A tree of ``size`` leaves reduced to its right edge: one partial tile per level."""

    __slots__ = ("levels", "size")

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self.levels: list[_Level] = []

    def copy(self) -> TreeEdge:
        clone = TreeEdge(self.size)
        clone.levels = [level.copy() for level in self.levels]
        return clone

    def append(self, hashes: Sequence[bytes], full: dict[tuple[int, int], bytes]) -> None:
        """Add leaf hashes; every tile they complete is put in ``full`` as (level, index)."""
        levels = self.levels
        if not levels:
            levels.append(_Level())
        bottom = levels[0]
        size = self.size
        for value in hashes:
            size += 1
            root = bottom.push(value)
            level = 0
            while root is not None:
                done = levels[level]
                full[level, level_size(size, level) // TILE_WIDTH - 1] = b"".join(done.hashes)
                done.hashes, done.stack = [], []
                level += 1
                if level == len(levels):
                    levels.append(_Level())
                root = levels[level].push(root)
        self.size = size

    def partial(self, level: int) -> bytes:
        return b"".join(self.levels[level].hashes) if level < len(self.levels) else b""

    def root(self) -> bytes:
        return _fold([value for level in reversed(self.levels) for value in level.stack])


# --- Integration --------------------------------------------------------------------------------


class TileLog:
    """Integrates batches of leaves into tiles (and entries into bundles) in ``objects``.

    ``integrate(old_size, leaf_hashes)`` and ``append(old_size, entries)`` return the new size
    and root; the caller then signs and publishes the checkpoint. ``old_size`` is the size the
    caller last published: if it differs from the size in memory (a fresh process, a retry after
    a failure) the right edge is reloaded from the store. Nothing in memory changes unless every
    write succeeded."""

    def __init__(self, objects: ObjectStore) -> None:
        self._objects = objects
        self._edge: TreeEdge | None = None
        self._bundle: BundleBuilder | None = None
        self._resumed = True

    @property
    def size(self) -> int | None:
        """The size integrated so far by this object; None until its first integration."""
        return None if self._edge is None else self._edge.size

    def integrate(self, old_size: int, leaf_hashes: Sequence[bytes]) -> tuple[int, bytes]:
        """Append already-hashed leaves (no entry bundles are written)."""
        for value in leaf_hashes:
            if len(value) != HASH_SIZE:
                raise InvalidInput(f"tlog: a leaf hash must be {HASH_SIZE} bytes, not {len(value)}")
        return self._integrate(old_size, leaf_hashes, None)

    def append(self, old_size: int, entries: Sequence[bytes]) -> tuple[int, bytes]:
        """Append entries: writes their bundles, then the tiles of their leaf hashes."""
        check_entries(entries)
        return self._integrate(old_size, [leaf_hash(entry) for entry in entries], entries)

    def _integrate(
        self, old_size: int, hashes: Sequence[bytes], entries: Sequence[bytes] | None
    ) -> tuple[int, bytes]:
        if old_size < 0:
            raise InvalidInput(f"tlog: a tree size cannot be negative ({old_size})")
        edge = self._edge_at(old_size).copy()
        if not hashes:
            return edge.size, edge.root()
        full: dict[tuple[int, int], bytes] = {}
        edge.append(hashes, full)
        writes: list[tuple[TileRef, bytes]] = []
        bundle = None
        if entries is not None:
            bundle = self._bundle_at(old_size).copy()
            writes += bundle.extend(entries)
        for ref in changed_tiles(old_size, edge.size):
            assert ref.level is not None
            data = edge.partial(ref.level) if ref.is_partial else full[ref.level, ref.index]
            writes.append((ref, data))
        beyond = self._resumed and self._probe(edge, writes)
        for ref, data in writes:
            write_once(self._objects, ref.key, data)
        self._edge, self._bundle, self._resumed = edge, bundle, beyond
        return edge.size, edge.root()

    def _edge_at(self, size: int) -> TreeEdge:
        if self._edge is not None and self._edge.size == size:
            return self._edge
        self._edge, self._bundle, self._resumed = None, None, True
        edge = TreeEdge(size)
        edge.levels = [_Level() for _ in range(tile_levels(size))]
        for ref in right_edge(size):
            assert ref.level is not None
            level = edge.levels[ref.level]
            for value in split_hashes(self._edge_tile(ref)):
                level.push(value)
        self._edge = edge  # the published state: safe to keep whatever happens next
        return edge

    def _bundle_at(self, size: int) -> BundleBuilder:
        if self._bundle is not None and self._bundle.size == size:
            return self._bundle
        edge = self._edge_at(size)
        entries: list[bytes] = []
        if size % TILE_WIDTH:
            ref = TileRef(None, size // TILE_WIDTH, size % TILE_WIDTH)
            entries = self._edge_bundle(ref)
            if [leaf_hash(entry) for entry in entries] != edge.levels[0].hashes:
                raise InvalidBundle(ref.key, "its entries do not hash to the level-0 tile")
        return BundleBuilder(size, entries)

    def _probe(self, edge: TreeEdge, writes: list[tuple[TileRef, bytes]]) -> bool:
        """After a restart the store may hold tiles of an integration that went further than
        ``old_size`` (a crash before the checkpoint was published). Compare every level-0 tile
        this batch writes with the widest version stored; True if the store still holds leaves
        beyond the new size (so the next batch must probe again)."""
        targets = [(ref.index, data) for ref, data in writes if ref.level == 0]
        if edge.size % TILE_WIDTH == 0:
            targets.append((edge.size // TILE_WIDTH, b""))
        beyond = False
        for index, ours in targets:
            found = self._widest(TileRef(0, index))
            beyond = found is not None and found.width * HASH_SIZE > len(ours)
            if found is not None:
                stored = read_tile(self._objects, found)
                common = min(len(ours), len(stored))
                if stored[:common] != ours[:common]:
                    raise TileConflict(
                        found.key, "it holds other leaf hashes for the entries being integrated"
                    )
        return beyond

    def _widest(self, full: TileRef) -> TileRef | None:
        """The widest stored version of a tile or bundle: the full one, else the widest
        partial; None if there is none."""
        if self._objects.exists(full.key):
            return full
        widths = []
        for name in self._objects.list(partials_prefix(full)):
            try:
                widths.append(parse_key(name).width)
            except InvalidTilePath:
                continue
        return TileRef(full.level, full.index, max(widths)) if widths else None

    def _edge_tile(self, ref: TileRef) -> bytes:
        """A right-edge tile for a size that was not a batch end: a prefix of a wider one."""
        try:
            return read_tile(self._objects, ref)
        except MissingTile:
            wider = self._widest(ref.full)
            if wider is None or wider.width < ref.width:
                raise
        return read_tile(self._objects, wider)[: ref.width * HASH_SIZE]

    def _edge_bundle(self, ref: TileRef) -> list[bytes]:
        try:
            return read_bundle(self._objects, ref)
        except MissingTile:
            wider = self._widest(ref.full)
            if wider is None or wider.width < ref.width:
                raise
        return read_bundle(self._objects, wider)[: ref.width]


# --- Reading ------------------------------------------------------------------------------------


class TileReader:
    """`clearroom.tlog.hashing.NodeReader` over the tiles of a tree of ``size`` leaves.

    Nodes at levels 0, 8, 16, ... are read from tiles; the levels in between are hashed from the
    stored hashes below them. Each tile is read at the width the tree size requires and cached
    (the ``cache_tiles`` most recently used)."""

    def __init__(self, objects: ObjectStore, size: int, *, cache_tiles: int = 1024) -> None:
        if size < 0:
            raise InvalidInput(f"tlog: a tree size cannot be negative ({size})")
        if cache_tiles < 1:
            raise InvalidInput(f"tlog: cache_tiles must be at least 1, not {cache_tiles}")
        self._objects = objects
        self._size = size
        self._cache_tiles = cache_tiles
        self._cache: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    @property
    def size(self) -> int:
        return self._size

    def tile(self, level: int, index: int) -> bytes:
        """The hashes of tile ``index`` at ``level``, concatenated, at the tree's width."""
        key = (level, index)
        data = self._cache.get(key)
        if data is not None:
            self._cache.move_to_end(key)
            return data
        data = read_tile(self._objects, tile_for(self._size, level, index))
        self._cache[key] = data
        if len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return data

    def node(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or level >= 64 or (index + 1) << level > self._size:
            raise InvalidInput(
                f"tlog: node ({level}, {index}) is not in a tree of size {self._size}"
            )
        where = node_location(level, index)
        data = self.tile(where.tile_level, where.tile_index)
        start = where.offset * HASH_SIZE
        return _perfect_root(split_hashes(data[start : start + where.count * HASH_SIZE]))

    def root(self) -> bytes:
        """The tree's root, from the fewest tiles: one node per set bit of the size."""
        roots: list[bytes] = []
        start = 0
        for level in reversed(range(self._size.bit_length())):
            if self._size >> level & 1:
                roots.append(self.node(level, start >> level))
                start += 1 << level
        return _fold(roots)


__all__ = [
    "FULL_TILE_BYTES",
    "TileLog",
    "TileReader",
    "TreeEdge",
    "read_tile",
    "split_hashes",
    "write_once",
]
