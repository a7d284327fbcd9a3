"""C2SP tlog-tiles names and tile arithmetic (clearroom.tlog.layout)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from clearroom.tlog import layout
from clearroom.tlog.errors import InvalidTilePath
from clearroom.tlog.layout import (
    CHECKPOINT_KEY,
    TILE_WIDTH,
    NodeLocation,
    TileRef,
    bundle_key,
    changed_tiles,
    encode_index,
    node_location,
    parse_key,
    partial_width,
    right_edge,
    tile_for,
    tile_key,
    tile_levels,
    tile_width,
    tiles_at_level,
    tree_bundles,
    tree_tiles,
)

CANONICAL = [
    ("tile/0/000", TileRef(0, 0)),
    ("tile/0/x001/x234/067", TileRef(0, 1234067)),
    ("tile/1/000.p/7", TileRef(1, 0, 7)),
    ("tile/0/x001/x234/067.p/8", TileRef(0, 1234067, 8)),
    ("tile/2/x001/000", TileRef(2, 1000)),
    ("tile/0/999", TileRef(0, 999)),
    ("tile/0/255.p/255", TileRef(0, 255, 255)),
    ("tile/63/000.p/1", TileRef(63, 0, 1)),
    ("tile/entries/000", TileRef(None, 0)),
    ("tile/entries/x001/000", TileRef(None, 1000)),
    ("tile/entries/273.p/112", TileRef(None, 273, 112)),
    ("tile/0/x018/x446/x744/x073/x709/x551/615", TileRef(0, (1 << 64) - 1)),
]


@pytest.mark.parametrize(("key", "ref"), CANONICAL)
def test_canonical_keys_round_trip(key: str, ref: TileRef) -> None:
    assert parse_key(key) == ref
    assert ref.key == key


def test_encode_index_groups_digits_by_three() -> None:
    assert encode_index(0) == "000"
    assert encode_index(5) == "005"
    assert encode_index(999) == "999"
    assert encode_index(1000) == "x001/000"
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(1_000_000) == "x001/x000/000"


def test_key_builders() -> None:
    assert tile_key(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_key(1, 0, 7) == "tile/1/000.p/7"
    assert bundle_key(1000) == "tile/entries/x001/000"
    assert bundle_key(3, 12) == "tile/entries/003.p/12"
    assert CHECKPOINT_KEY == "checkpoint"


@pytest.mark.parametrize(
    "key",
    [
        "tile/0/0",  # not 3 digits
        "tile/0/0000",
        "tile/0/1234",
        "tile/0/x000/001",  # superfluous leading x000 group
        "tile/0/x001/x234/x067",  # x on the last group
        "tile/0/001/234",  # missing x on a non-last group
        "tile/0/xx01/234",
        "tile/00/000",  # level with a leading zero
        "tile/01/000",
        "tile/64/000",  # level beyond the spec's 0..63
        "tile/-1/000",
        "tile/+1/000",
        "tile/ 1/000",
        "tile/a/000",
        "tile/0/000.p/0",  # width 0
        "tile/0/000.p/256",  # a full tile is never partial
        "tile/0/000.p/300",
        "tile/0/000.p/07",  # width with a leading zero
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/7/8",
        "tile/0/000.q/7",
        "tile/0/00a",
        "tile/0/\u0660\u0660\u0660",  # non-ASCII (Arabic-Indic) digits
        "tile/entries/000.p/256",
        "tile/entries/x000/000",
        "tile/entry/000",
        "tile/0",
        "tile/0/",
        "tiles/0/000",
        "/tile/0/000",
        "tile//000",
        "checkpoint",
        "tile/0/x018/x446/x744/x073/x709/x551/616",  # 2**64
    ],
)
def test_parse_rejects_non_canonical_keys(key: str) -> None:
    with pytest.raises(InvalidTilePath):
        parse_key(key)


def test_tile_ref_validates() -> None:
    with pytest.raises(InvalidTilePath):
        TileRef(64, 0)
    with pytest.raises(InvalidTilePath):
        TileRef(0, -1)
    with pytest.raises(InvalidTilePath):
        TileRef(0, 0, 0)
    with pytest.raises(InvalidTilePath):
        TileRef(0, 0, 257)
    assert TileRef(0, 3, 5).full == TileRef(0, 3)
    assert TileRef(0, 3, 5).is_partial and not TileRef(0, 3).is_partial
    assert TileRef(None, 3).is_bundle


def test_spec_example_tree_of_70000() -> None:
    """c2sp.org/tlog-tiles: 273 full level-0 tiles, one of width 112, one full level-1 tile,
    one of width 17, one level-2 tile of width 1."""
    tiles = list(tree_tiles(70000))
    assert tiles[:273] == [TileRef(0, i) for i in range(273)]
    assert tiles[273:] == [TileRef(0, 273, 112), TileRef(1, 0), TileRef(1, 1, 17), TileRef(2, 0, 1)]
    assert tile_levels(70000) == 3
    assert list(right_edge(70000)) == [TileRef(0, 273, 112), TileRef(1, 1, 17), TileRef(2, 0, 1)]
    assert [t.key for t in tree_bundles(70000)][-1] == "tile/entries/273.p/112"


def test_spec_example_tree_of_256() -> None:
    assert list(tree_tiles(256)) == [TileRef(0, 0), TileRef(1, 0, 1)]
    assert list(right_edge(256)) == [TileRef(1, 0, 1)]


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 65535, 65536, 65537, 70000, 16777216])
def test_tile_counts_follow_the_formula(size: int) -> None:
    for level in range(4):
        tiles = list(tiles_at_level(size, level))
        assert sum(t.width for t in tiles) == size >> (8 * level)
        assert partial_width(size, level) == (size >> (8 * level)) % 256
        for tile in tiles:
            assert tile_width(size, level, tile.index) == tile.width
            assert tile_for(size, level, tile.index) == tile
    assert tile_width(size, 0, (size >> 8) + 1) == 0
    with pytest.raises(InvalidTilePath):
        tile_for(size, 0, (size >> 8) + 1)


def test_changed_tiles_between_sizes() -> None:
    assert list(changed_tiles(0, 0)) == []
    assert list(changed_tiles(0, 3)) == [TileRef(0, 0, 3)]
    assert list(changed_tiles(3, 256)) == [TileRef(0, 0), TileRef(1, 0, 1)]
    assert list(changed_tiles(256, 300)) == [TileRef(0, 1, 44)]
    assert list(changed_tiles(300, 1000)) == [
        TileRef(0, 1),
        TileRef(0, 2),
        TileRef(0, 3, 232),
        TileRef(1, 0, 3),
    ]
    # A changed tile set is exactly the difference between the two trees' tile sets.
    for old, new in [(0, 70000), (1000, 70000), (65535, 65537), (65536, 131072)]:
        expected = set(tree_tiles(new)) - set(tree_tiles(old))
        assert set(changed_tiles(old, new)) == expected


def test_node_location() -> None:
    assert node_location(0, 1234067) == NodeLocation(0, 1234067 // 256, 1234067 % 256, 1)
    assert node_location(8, 0) == NodeLocation(1, 0, 0, 1)
    assert node_location(8, 300) == NodeLocation(1, 1, 44, 1)
    assert node_location(16, 2) == NodeLocation(2, 0, 2, 1)
    assert node_location(3, 1) == NodeLocation(0, 0, 8, 8)  # hash of leaves 8..15
    assert node_location(7, 3) == NodeLocation(0, 1, 128, 128)
    assert node_location(9, 5) == NodeLocation(1, 0, 10, 2)
    for level in range(24):
        for index in (0, 1, 7, 255, 1000):
            where = node_location(level, index)
            assert where.offset + where.count <= TILE_WIDTH
            first = (where.tile_index * TILE_WIDTH + where.offset) << (8 * where.tile_level)
            assert first == index << level


SOURCES = Path(layout.__file__).parent


def _non_docstring_strings(tree: ast.AST) -> list[str]:
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_module_bypasses_layout() -> None:
    """Tessera's rule: tile paths are spelled in one file. Any other module of the package that
    contains a tile-path literal fails here."""
    offenders = []
    for path in sorted(SOURCES.rglob("*.py")):
        if path.name == "layout.py":
            continue
        for text in _non_docstring_strings(ast.parse(path.read_text(encoding="utf-8"))):
            if "tile/" in text or ".p/" in text or text in {"tile", "entries", ".p"}:
                offenders.append(f"{path.name}: {text!r}")
    assert offenders == []
