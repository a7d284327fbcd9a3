"""C2SP tlog-tiles entry bundles: the log's entries, 256 to an object, each prefixed by its
big-endian uint16 length.

Why here and not in the tile code: bundles are what monitors download to see *what* was logged,
and the format has a hard limit (an entry is at most 65,535 bytes) that must be enforced before
anything is sequenced, not discovered when a bundle fails to encode. `BundleBuilder` keeps the
right-edge bundle in memory so `clearroom.tlog.tiles.TileLog` can write bundles beside the hash
tiles; `decode_bundle` is strict (truncation, trailing bytes and a wrong count are errors) because
it reads bytes fetched from storage or from an untrusted mirror.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from clearroom.blobs.errors import ObjectNotFound
from clearroom.blobs.interfaces import ObjectStore
from clearroom.tlog.errors import EntryTooLarge, InvalidBundle, InvalidInput, MissingTile
from clearroom.tlog.layout import TILE_WIDTH, TileRef, bundle_for, entry_location

MAX_ENTRY_SIZE = 0xFFFF
"""The largest entry a bundle can hold: its length must fit a big-endian uint16."""

_PREFIX_SIZE = 2


def check_entries(entries: Iterable[bytes]) -> None:
    """Raise `EntryTooLarge` for the first entry longer than `MAX_ENTRY_SIZE`."""
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise EntryTooLarge(len(entry), MAX_ENTRY_SIZE, position)


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Concatenate ``entries``, each prefixed by its length as a big-endian uint16."""
    parts: list[bytes] = []
    append = parts.append
    for position, entry in enumerate(entries):
        size = len(entry)
        if size > MAX_ENTRY_SIZE:
            raise EntryTooLarge(size, MAX_ENTRY_SIZE, position)
        append(size.to_bytes(_PREFIX_SIZE, "big"))
        append(entry)
    return b"".join(parts)


def decode_bundle(data: bytes, count: int, *, key: str = "(bundle)") -> list[bytes]:
    """Split a bundle into exactly ``count`` entries; anything else raises `InvalidBundle`."""
    if not 1 <= count <= TILE_WIDTH:
        raise InvalidBundle(key, f"a bundle holds 1..{TILE_WIDTH} entries, not {count}")
    view = memoryview(data)
    end = len(view)
    entries: list[bytes] = []
    position = 0
    while position < end:
        if len(entries) == count:
            raise InvalidBundle(key, f"{end - position} trailing bytes after {count} entries")
        if position + _PREFIX_SIZE > end:
            raise InvalidBundle(key, f"truncated length prefix of entry {len(entries)}")
        size = int.from_bytes(view[position : position + _PREFIX_SIZE], "big")
        position += _PREFIX_SIZE
        if position + size > end:
            raise InvalidBundle(
                key,
                f"entry {len(entries)} is truncated: {size} bytes announced, {end - position} left",
            )
        entries.append(bytes(view[position : position + size]))
        position += size
    if len(entries) != count:
        raise InvalidBundle(key, f"holds {len(entries)} entries where {count} are expected")
    return entries


def read_bundle(objects: ObjectStore, ref: TileRef) -> list[bytes]:
    """The ``ref.width`` entries of a bundle. A partial bundle that is gone (logs may delete one
    once the full bundle exists, c2sp.org/tlog-tiles) is read from the full bundle's prefix."""
    try:
        return decode_bundle(objects.get(ref.key), ref.width, key=ref.key)
    except ObjectNotFound:
        if not ref.is_partial:
            raise MissingTile(ref.key) from None
    full = ref.full
    try:
        data = objects.get(full.key)
    except ObjectNotFound:
        raise MissingTile(ref.key) from None
    return decode_bundle(data, TILE_WIDTH, key=full.key)[: ref.width]


def read_entries(objects: ObjectStore, size: int, start: int, end: int) -> Iterator[bytes]:
    """Entries ``start`` up to ``end`` (exclusive) of a tree of ``size``, bundle by bundle."""
    if not 0 <= start <= end <= size:
        raise InvalidInput(f"tlog: entries [{start}, {end}) are not within a tree of size {size}")
    position = start
    while position < end:
        index, offset = entry_location(position)
        entries = read_bundle(objects, bundle_for(size, index))
        take = min(len(entries), offset + end - position)
        yield from entries[offset:take]
        position += take - offset


class BundleBuilder:
    """The entries of the right-edge (partial) bundle of a tree, kept encoded in memory.

    `extend` appends a batch and returns the bundles to write: each bundle the batch completed,
    then the new partial bundle. Entries are size-checked before anything changes."""

    __slots__ = ("_count", "_encoded", "_size")

    def __init__(self, size: int, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != size % TILE_WIDTH:
            raise InvalidInput(
                f"tlog: a tree of size {size} has {size % TILE_WIDTH} entries in its partial "
                f"bundle, not {len(edge)}"
            )
        self._size = size
        self._encoded = bytearray(encode_bundle(edge))
        self._count = len(edge)

    @property
    def size(self) -> int:
        return self._size

    def copy(self) -> BundleBuilder:
        clone = BundleBuilder.__new__(BundleBuilder)
        clone._size, clone._encoded, clone._count = self._size, self._encoded[:], self._count
        return clone

    def extend(self, entries: Sequence[bytes]) -> list[tuple[TileRef, bytes]]:
        check_entries(entries)
        out: list[tuple[TileRef, bytes]] = []
        encoded, count = self._encoded, self._count
        for entry in entries:
            encoded += len(entry).to_bytes(_PREFIX_SIZE, "big")
            encoded += entry
            count += 1
            if count == TILE_WIDTH:
                full = TileRef(None, self._size // TILE_WIDTH + len(out))
                out.append((full, bytes(encoded)))
                encoded.clear()
                count = 0
        self._size += len(entries)
        self._count = count
        if count and entries:
            out.append((TileRef(None, self._size // TILE_WIDTH, count), bytes(encoded)))
        return out
