"""Every C2SP tlog-tiles name and every piece of tile arithmetic, in one place.

Why one module: a tile path that is built by hand somewhere else (an off-by-one width, a missing
``x`` prefix) silently forks the log into objects nobody reads. Writers, readers and the monitor
ask this module for keys and coordinates; ``tests/tlog/test_layout.py`` fails if another module
of the package spells a tile path itself.

The spec (c2sp.org/tlog-tiles): a tile at level ``L`` holds up to 256 consecutive hashes of tree
level ``8*L``; it is stored at ``tile/<L>/<N>`` when full and ``tile/<L>/<N>.p/<W>`` while it holds
``W`` (1..255) hashes. Entry bundles live at ``tile/entries/<N>[.p/<W>]``. ``N`` is written in
3-digit groups, all but the last prefixed by ``x``: 1234067 is ``x001/x234/067``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clearroom.tlog.errors import InvalidTilePath
from clearroom.untrusted import parse_decimal

TILE_HEIGHT = 8
"""Tree levels spanned by one tile: stored hashes are at tree levels 0, 8, 16, ..."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes (or entries) in a full tile (or bundle): 256."""
MAX_TILE_LEVEL = 63
"""The largest ``<L>`` the spec allows in a path."""
MAX_INDEX = (1 << 64) - 1
"""Tile indexes, like tree sizes, are unsigned 64-bit numbers."""
CHECKPOINT_KEY = "checkpoint"
"""Where the signed checkpoint (c2sp.org/tlog-checkpoint) is stored."""

_TILE = "tile"
_ENTRIES = "entries"
_PARTIAL = ".p"


@dataclass(frozen=True, slots=True)
class TileRef:
    """One tile or entry bundle: ``level`` is None for an entry bundle; ``width`` is 256 when
    full, 1..255 for a partial tile."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_TILE_LEVEL:
            raise InvalidTilePath(repr(self), f"level must be 0..{MAX_TILE_LEVEL}")
        if not 0 <= self.index <= MAX_INDEX:
            raise InvalidTilePath(repr(self), "index must be an unsigned 64-bit number")
        if not 1 <= self.width <= TILE_WIDTH:
            raise InvalidTilePath(repr(self), f"width must be 1..{TILE_WIDTH}")

    @property
    def is_bundle(self) -> bool:
        return self.level is None

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def full(self) -> TileRef:
        """The full tile (or bundle) this partial one will become."""
        return TileRef(self.level, self.index)

    @property
    def key(self) -> str:
        """The object-store key (and URL path below the log prefix)."""
        middle = _ENTRIES if self.level is None else str(self.level)
        suffix = f"{_PARTIAL}/{self.width}" if self.width < TILE_WIDTH else ""
        return f"{_TILE}/{middle}/{encode_index(self.index)}{suffix}"


@dataclass(frozen=True, slots=True)
class NodeLocation:
    """Where the hashes of node (level, index) are stored: ``count`` consecutive hashes from
    ``offset`` in tile (``tile_level``, ``tile_index``). ``count`` is 1 when the node's level is
    a multiple of 8; otherwise the node is the Merkle root of those ``count`` hashes."""

    tile_level: int
    tile_index: int
    offset: int
    count: int


def partials_prefix(ref: TileRef) -> str:
    """Listing prefix under which every partial version of ``ref``'s tile is stored."""
    return f"{ref.full.key}{_PARTIAL}"


def encode_index(index: int) -> str:
    """``<N>`` of a path: 1234067 → ``x001/x234/067``, 5 → ``005``."""
    if not 0 <= index <= MAX_INDEX:
        raise InvalidTilePath(str(index), "index must be an unsigned 64-bit number")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def tile_key(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Key of the hash tile; ``width`` < 256 gives the partial tile ``.p/<width>``."""
    return TileRef(level, index, width).key


def bundle_key(index: int, width: int = TILE_WIDTH) -> str:
    """Key of the entry bundle; ``width`` < 256 gives the partial bundle ``.p/<width>``."""
    return TileRef(None, index, width).key


def _decimal(text: str, what: str, key: str) -> int:
    value = parse_decimal(text)
    if value is None:
        raise InvalidTilePath(key, f"{what} {text!r} is not a decimal number without leading zeros")
    return value


def parse_key(key: str) -> TileRef:
    """Parse a tile or bundle key, accepting only the canonical spelling: exactly 3 digits per
    group, ``x`` on all but the last group, no superfluous ``x000`` group, no leading zeros in
    ``<L>`` or ``<W>``, ``W`` in 1..255. Anything else raises `InvalidTilePath`."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != _TILE:
        raise InvalidTilePath(key, "expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    level = None if parts[1] == _ENTRIES else _decimal(parts[1], "level", key)
    groups = parts[2:]
    width = TILE_WIDTH
    if groups[-1].endswith(_PARTIAL):
        raise InvalidTilePath(key, "a partial tile needs a width after '.p/'")
    if len(groups) >= 2 and groups[-2].endswith(_PARTIAL):
        width = _decimal(groups[-1], "width", key)
        if not 1 <= width < TILE_WIDTH:
            raise InvalidTilePath(key, f"partial width must be 1..{TILE_WIDTH - 1}")
        groups = [*groups[:-2], groups[-2][: -len(_PARTIAL)]]
    index = 0
    for position, group in enumerate(groups):
        digits = group
        if position < len(groups) - 1:
            if not group.startswith("x"):
                raise InvalidTilePath(key, f"index group {group!r} must start with 'x'")
            digits = group[1:]
        value = parse_decimal(digits, canonical=False)
        if len(digits) != 3 or value is None:
            raise InvalidTilePath(key, f"index group {group!r} must be exactly 3 digits")
        index = index * 1000 + value
    if index > MAX_INDEX:
        raise InvalidTilePath(key, "index must be an unsigned 64-bit number")
    if level is not None and level > MAX_TILE_LEVEL:
        raise InvalidTilePath(key, f"level must be 0..{MAX_TILE_LEVEL}")
    ref = TileRef(level, index, width)
    if ref.key != key:  # e.g. a superfluous leading x000 group
        raise InvalidTilePath(key, f"not canonical; the canonical key is {ref.key!r}")
    return ref


# --- Tree arithmetic --------------------------------------------------------------------------


def level_size(size: int, level: int) -> int:
    """How many hashes of tile level ``level`` (tree level ``8*level``) a tree of ``size``
    leaves has: each covers ``256**level`` leaves."""
    return size >> (TILE_HEIGHT * level)


def partial_width(size: int, level: int) -> int:
    """Width of the partial tile at ``level`` for a tree of ``size``; 0 if there is none."""
    return level_size(size, level) % TILE_WIDTH


def tile_levels(size: int) -> int:
    """How many tile levels a tree of ``size`` has (0 for the empty tree): 256 leaves need a
    full level-0 tile and a level-1 tile of width 1."""
    levels = 0
    while level_size(size, levels):
        levels += 1
    return levels


def tile_width(size: int, level: int, index: int) -> int:
    """Width of tile ``index`` at ``level`` in a tree of ``size``: 256 if full, the partial
    width if it is the right-edge tile, 0 if the tile does not exist."""
    remaining = level_size(size, level) - index * TILE_WIDTH
    return max(0, min(TILE_WIDTH, remaining))


def tile_for(size: int, level: int, index: int) -> TileRef:
    """The tile ``index`` at ``level`` with its width in a tree of ``size``; `InvalidTilePath`
    if the tree does not have it."""
    width = tile_width(size, level, index)
    if width == 0:
        raise InvalidTilePath(
            f"{level}/{index}", f"a tree of {size} leaves has no tile {index} at level {level}"
        )
    return TileRef(level, index, width)


def bundle_for(size: int, index: int) -> TileRef:
    """The entry bundle ``index`` with its width in a tree of ``size``."""
    width = tile_width(size, 0, index)
    if width == 0:
        raise InvalidTilePath(f"entries/{index}", f"a tree of {size} leaves has no bundle {index}")
    return TileRef(None, index, width)


def tiles_at_level(size: int, level: int) -> Iterator[TileRef]:
    """Every tile a tree of ``size`` has at ``level``: the full ones, then the partial one."""
    count = level_size(size, level)
    for index in range(count // TILE_WIDTH):
        yield TileRef(level, index)
    if count % TILE_WIDTH:
        yield TileRef(level, count // TILE_WIDTH, count % TILE_WIDTH)


def tree_tiles(size: int) -> Iterator[TileRef]:
    """Every hash tile of a tree of ``size``, level by level from the leaves up."""
    for level in range(tile_levels(size)):
        yield from tiles_at_level(size, level)


def tree_bundles(size: int) -> Iterator[TileRef]:
    """Every entry bundle of a tree of ``size``."""
    for tile in tiles_at_level(size, 0):
        yield TileRef(None, tile.index, tile.width)


def right_edge(size: int) -> Iterator[TileRef]:
    """The partial tiles of a tree of ``size``, from level 0 up: everything an integrator
    needs to keep appending."""
    for level in range(tile_levels(size)):
        width = partial_width(size, level)
        if width:
            yield TileRef(level, level_size(size, level) // TILE_WIDTH, width)


def changed_tiles(old_size: int, new_size: int) -> Iterator[TileRef]:
    """The tiles growing the tree from ``old_size`` to ``new_size`` writes: tiles completed in
    between (full) and the new right edge (partial), level by level from the leaves up."""
    for level in range(tile_levels(new_size)):
        old, new = level_size(old_size, level), level_size(new_size, level)
        if old == new:
            continue
        for index in range(old // TILE_WIDTH, new // TILE_WIDTH):
            yield TileRef(level, index)
        if new % TILE_WIDTH:
            yield TileRef(level, new // TILE_WIDTH, new % TILE_WIDTH)


def node_location(level: int, index: int) -> NodeLocation:
    """Which stored hashes make node (level, index): for a level that is a multiple of 8 it is
    one hash of a tile; for the levels in between, the ``2**(level % 8)`` hashes below it."""
    if level < 0 or index < 0:
        raise InvalidTilePath(f"node {level}/{index}", "level and index must be non-negative")
    tile_level, rest = divmod(level, TILE_HEIGHT)
    first = index << rest
    return NodeLocation(tile_level, first // TILE_WIDTH, first % TILE_WIDTH, 1 << rest)


def entry_location(index: int) -> tuple[int, int]:
    """(bundle index, position in the bundle) of entry ``index``."""
    return divmod(index, TILE_WIDTH)
