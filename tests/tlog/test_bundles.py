"""Entry bundles: the uint16-length-prefixed format and writing them beside the tiles
(clearroom.tlog.bundles, TileLog.append)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearroom.blobs import LocalObjectStore
from clearroom.tlog.bundles import (
    MAX_ENTRY_SIZE,
    BundleBuilder,
    decode_bundle,
    encode_bundle,
    read_bundle,
    read_entries,
)
from clearroom.tlog.errors import (
    EntryTooLarge,
    InvalidBundle,
    InvalidInput,
    MissingTile,
    RootMismatch,
    TileConflict,
)
from clearroom.tlog.hashing import leaf_hash, subtree_root
from clearroom.tlog.integrity import check_tree
from clearroom.tlog.layout import TileRef, bundle_key, tile_key, tree_bundles
from clearroom.tlog.tiles import TileLog


def entries(count: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() * (i % 7) for i in range(start, start + count)]


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "log")


def test_encoding_is_big_endian_length_prefixed() -> None:
    assert encode_bundle([b"ab", b"", b"\x00" * 258]) == (
        b"\x00\x02ab" + b"\x00\x00" + b"\x01\x02" + b"\x00" * 258
    )
    assert encode_bundle([]) == b""


def test_round_trip_up_to_the_size_limit() -> None:
    items = [b"", b"x", b"y" * 300, b"z" * MAX_ENTRY_SIZE]
    assert decode_bundle(encode_bundle(items), len(items)) == items
    full = entries(256)
    assert decode_bundle(encode_bundle(full), 256) == full


def test_entry_over_65535_bytes_is_rejected() -> None:
    with pytest.raises(EntryTooLarge) as caught:
        encode_bundle([b"ok", b"x" * (MAX_ENTRY_SIZE + 1)])
    assert caught.value.size == 65536 and caught.value.index == 1
    assert "65535" in str(caught.value) and "65536" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "count", "reason"),
    [
        (b"\x00", 1, "truncated length prefix"),
        (b"\x00\x05abc", 1, "truncated"),
        (b"\x00\x01a\x00\x01b", 1, "trailing"),
        (b"\x00\x01a\x00", 1, "trailing"),
        (b"\x00\x01a", 2, "expected"),
        (b"", 1, "expected"),
        (b"\x00\x01a", 0, "1..256"),
        (b"\x00\x01a", 257, "1..256"),
    ],
)
def test_decode_rejects_malformed_bundles(data: bytes, count: int, reason: str) -> None:
    with pytest.raises(InvalidBundle) as caught:
        decode_bundle(data, count, key="tile/entries/000.p/1")
    assert reason in str(caught.value)


def test_builder_emits_full_then_partial_bundles() -> None:
    builder = BundleBuilder(0)
    out = builder.extend(entries(3))
    assert [ref for ref, _ in out] == [TileRef(None, 0, 3)]
    out = builder.extend(entries(600, start=3))
    assert [ref for ref, _ in out] == [TileRef(None, 0), TileRef(None, 1), TileRef(None, 2, 91)]
    assert decode_bundle(out[0][1], 256) == entries(256)
    assert decode_bundle(out[2][1], 91) == entries(91, start=512)
    assert builder.size == 603
    assert builder.extend(entries(256 - 91, start=603)) == [
        (TileRef(None, 2), encode_bundle(entries(256, start=512)))
    ]
    with pytest.raises(InvalidInput):
        BundleBuilder(5, entries(4))


def test_builder_checks_sizes_before_changing_anything() -> None:
    builder = BundleBuilder(2, entries(2))
    with pytest.raises(EntryTooLarge):
        builder.extend([b"a", b"b" * 70000])
    assert builder.size == 2
    assert builder.extend([b"c"]) == [(TileRef(None, 0, 3), encode_bundle([*entries(2), b"c"]))]


def test_append_writes_bundles_beside_tiles(store: LocalObjectStore) -> None:
    items = entries(1000)
    log, size = TileLog(store), 0
    for count in (1, 299, 700):
        size, root = log.append(size, items[size : size + count])
    assert root == subtree_root([leaf_hash(e) for e in items])
    for ref in tree_bundles(1000):
        assert store.exists(ref.key)
    assert read_bundle(store, TileRef(None, 3, 232)) == items[768:]
    assert list(read_entries(store, 1000, 250, 530)) == items[250:530]
    assert list(read_entries(store, 1000, 0, 1000)) == items
    assert list(read_entries(store, 1000, 999, 999)) == []
    with pytest.raises(InvalidInput):
        list(read_entries(store, 1000, 10, 1001))
    check_tree(store, 1000, root, entries=True)


def test_oversized_entry_writes_nothing(store: LocalObjectStore) -> None:
    log = TileLog(store)
    with pytest.raises(EntryTooLarge):
        log.append(0, [b"fine", b"x" * (MAX_ENTRY_SIZE + 1)])
    assert list(store.list()) == []
    assert log.append(0, [b"fine"])[0] == 1


def test_resumed_append_continues_the_partial_bundle(store: LocalObjectStore) -> None:
    items = entries(700)
    TileLog(store).append(0, items[:300])
    size, root = TileLog(store).append(300, items[300:])
    assert (size, root) == (700, subtree_root([leaf_hash(e) for e in items]))
    assert read_bundle(store, TileRef(None, 1)) == items[256:512]
    assert read_bundle(store, TileRef(None, 2, 188)) == items[512:]
    # Partial bundles may be deleted once the full bundle exists: resuming still works.
    store.delete(bundle_key(1, 44))
    assert TileLog(store).append(300, items[300:]) == (700, root)


def test_a_different_entry_conflicts_with_its_bundle(store: LocalObjectStore) -> None:
    items = entries(600)
    TileLog(store).append(0, items)
    before = {key: store.get(key) for key in store.list()}
    forged = [*items[:256], b"forged", *items[257:512]]
    with pytest.raises(TileConflict) as caught:
        TileLog(store).append(0, forged)
    assert caught.value.key == tile_key(0, 1)  # found by comparing leaf hashes, before writing
    assert {key: store.get(key) for key in store.list()} == before


def test_tampered_partial_bundle_stops_a_resumed_append(store: LocalObjectStore) -> None:
    TileLog(store).append(0, entries(300))
    store.put(bundle_key(1, 44), encode_bundle([b"other"] * 44), overwrite=True)
    with pytest.raises(InvalidBundle):
        TileLog(store).append(300, entries(10, start=300))


def test_bundles_are_needed_to_append_after_hash_only_integration(
    store: LocalObjectStore,
) -> None:
    TileLog(store).integrate(0, [leaf_hash(e) for e in entries(10)])
    with pytest.raises(MissingTile):
        TileLog(store).append(10, entries(1, start=10))


def test_bit_flipped_bundle_is_a_mismatch(store: LocalObjectStore) -> None:
    items = entries(1000)
    _, root = TileLog(store).append(0, items)
    key = bundle_key(2)
    data = bytearray(store.get(key))
    data[-1] ^= 0x20  # inside the last entry's bytes: still decodes
    store.put(key, bytes(data), overwrite=True)
    check_tree(store, 1000, root)  # the tiles themselves are intact
    with pytest.raises(RootMismatch) as caught:
        check_tree(store, 1000, root, entries=True)
    assert caught.value.key == key


@pytest.mark.parametrize("cut", [1, 2, 100])
def test_truncated_bundle_is_invalid(store: LocalObjectStore, cut: int) -> None:
    _, root = TileLog(store).append(0, entries(1000))
    key = bundle_key(3, 232)
    store.put(key, store.get(key)[:-cut], overwrite=True)
    with pytest.raises(InvalidBundle) as caught:
        list(read_entries(store, 1000, 900, 1000))
    assert caught.value.key == key
    with pytest.raises(InvalidBundle):
        check_tree(store, 1000, root, entries=True)
