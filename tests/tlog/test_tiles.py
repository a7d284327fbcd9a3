"""Writing the tree as tiles and reading it back (clearroom.tlog.tiles, clearroom.tlog.integrity)
against the local object store; one run against S3 (moto)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearroom.blobs import LocalObjectStore, ObjectStore
from clearroom.blobs.errors import ObjectExists
from clearroom.blobs.interfaces import BytesLike, ChunkReader, ObjectWriter
from clearroom.tlog.errors import (
    InvalidInput,
    InvalidTile,
    MissingTile,
    RootMismatch,
    TileConflict,
)
from clearroom.tlog.hashing import EMPTY_ROOT, NodeReader, leaf_hash, node_hash, subtree_root
from clearroom.tlog.integrity import check_tree
from clearroom.tlog.layout import TileRef, right_edge, tile_key, tree_tiles
from clearroom.tlog.tiles import FULL_TILE_BYTES, TileLog, TileReader


class SimulatedCrash(Exception):
    """The integrator's process died between two writes."""


class RecordingStore:
    """An ObjectStore around a real one that records every call and can crash after ``crash_after``
    successful writes."""

    def __init__(self, inner: ObjectStore, *, crash_after: int | None = None) -> None:
        self.inner = inner
        self.crash_after = crash_after
        self.created: list[str] = []
        self.refused: list[str] = []
        self.overwrites: list[str] = []
        self.reads: list[str] = []

    def put(self, key: str, data: BytesLike, *, overwrite: bool = True) -> None:
        if self.crash_after is not None and len(self.created) >= self.crash_after:
            raise SimulatedCrash(key)
        if overwrite:
            self.overwrites.append(key)
        try:
            self.inner.put(key, data, overwrite=overwrite)
        except ObjectExists:
            self.refused.append(key)
            raise
        self.created.append(key)

    def get(self, key: str) -> bytes:
        self.reads.append(key)
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        self.reads.append(f"exists:{key}")
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        self.reads.append(f"list:{prefix}")
        return self.inner.list(prefix)

    def open_read(self, key: str, *, chunk_size: int = 1 << 20) -> ChunkReader:
        self.reads.append(key)
        return self.inner.open_read(key, chunk_size=chunk_size)

    def open_write(self, key: str, *, overwrite: bool = True) -> ObjectWriter:
        raise AssertionError("the tile log writes whole objects with put()")


class Reference:
    """Every complete node of a growing tree, computed directly with node_hash."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    def extend(self, hashes: list[bytes]) -> None:
        self.levels[0].extend(hashes)
        level = 0
        while len(self.levels[level]) >= 2:
            if level + 1 == len(self.levels):
                self.levels.append([])
            below, above = self.levels[level], self.levels[level + 1]
            for i in range(len(above), len(below) // 2):
                above.append(node_hash(below[2 * i], below[2 * i + 1]))
            level += 1

    @property
    def leaves(self) -> list[bytes]:
        return self.levels[0]

    def root(self) -> bytes:
        """RFC 6962 root from the perfect subtrees given by the bits of the size."""
        size, start, roots = len(self.leaves), 0, []
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                roots.append(self.levels[level][start >> level])
                start += 1 << level
        root = roots[-1] if roots else EMPTY_ROOT
        for left in reversed(roots[:-1]):
            root = node_hash(left, root)
        return root

    def nodes(self) -> Iterator[tuple[int, int]]:
        for level, hashes in enumerate(self.levels):
            for index in range(len(hashes)):
                yield level, index


def leaves(count: int, seed: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(count)]


def flip(store: ObjectStore, key: str, position: int = 0) -> None:
    data = bytearray(store.get(key))
    data[position] ^= 0x01
    store.put(key, bytes(data), overwrite=True)


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "log")


def integrate_in_batches(log: TileLog, hashes: list[bytes], batches: list[int]) -> bytes:
    size, root = 0, EMPTY_ROOT
    for count in batches:
        size, root = log.integrate(size, hashes[size : size + count])
    return root


def test_random_batches_match_a_direct_computation(store: LocalObjectStore) -> None:
    rng = random.Random(6962)
    recording = RecordingStore(store)
    log = TileLog(recording)
    reference = Reference()
    all_leaves = leaves(40000, seed=1)
    size = 0
    while size < len(all_leaves):
        batch = all_leaves[size : size + rng.choice([1, 2, 255, 256, 257, rng.randint(1, 3000)])]
        new_size, root = log.integrate(size, batch)
        reference.extend(batch)
        size += len(batch)
        assert new_size == size == log.size
        assert root == reference.root()
        if size <= 5000:
            assert root == subtree_root(reference.leaves)
        reader = TileReader(store, size)
        assert reader.root() == root
        nodes = list(reference.nodes())
        for level, index in nodes if size <= 1200 else rng.sample(nodes, 300):
            assert reader.node(level, index) == reference.levels[level][index], (level, index)
        for tile in tree_tiles(size):  # every tile the tree needs is stored
            assert store.exists(tile.key)
    assert root == subtree_root(all_leaves)
    assert recording.overwrites == [] and recording.refused == []
    assert len(recording.created) == len(set(recording.created))  # nothing written twice
    full = [key for key in recording.created if ".p" not in key]
    assert all(len(store.get(key)) == FULL_TILE_BYTES for key in full)


def test_partial_tiles_grow_into_full_ones(store: LocalObjectStore) -> None:
    hashes = leaves(600)
    log = TileLog(store)
    log.integrate(0, hashes[:3])
    assert sorted(store.list("tile")) == ["tile/0/000.p/3"]
    log.integrate(3, hashes[3:253])
    assert store.get(tile_key(0, 0, 253)) == b"".join(hashes[:253])
    log.integrate(253, hashes[253:256])
    assert store.get(tile_key(0, 0)) == b"".join(hashes[:256])
    assert store.get(tile_key(1, 0, 1)) == subtree_root(hashes[:256])
    assert "tile/0/001" not in set(store.list())
    size, root = log.integrate(256, hashes[256:600])
    assert (size, root) == (600, subtree_root(hashes))
    assert store.get(tile_key(0, 2, 88)) == b"".join(hashes[512:600])
    assert store.get(tile_key(1, 0, 2)) == subtree_root(hashes[:256]) + subtree_root(
        hashes[256:512]
    )


def test_right_edge_stays_in_memory_between_batches(store: LocalObjectStore) -> None:
    recording = RecordingStore(store)
    log = TileLog(recording)
    hashes = leaves(5000)
    log.integrate(0, hashes[:1000])
    recording.reads.clear()
    size = 1000
    for start in range(1000, 5000, 1000):
        size, _ = log.integrate(size, hashes[start : start + 1000])
    assert recording.reads == []  # no tile was read back


def test_fresh_log_reads_only_the_right_edge(store: LocalObjectStore) -> None:
    hashes = leaves(70010)
    integrate_in_batches(TileLog(store), hashes, [50000, 20000])
    recording = RecordingStore(store)
    size, root = TileLog(recording).integrate(70000, hashes[70000:])
    assert (size, root) == (70010, subtree_root(hashes))
    gets = {key for key in recording.reads if ":" not in key}
    assert gets == {ref.key for ref in right_edge(70000)}


def test_integrating_nothing_changes_nothing(store: LocalObjectStore) -> None:
    hashes = leaves(300)
    log = TileLog(store)
    assert log.integrate(0, []) == (0, EMPTY_ROOT)
    log.integrate(0, hashes)
    before = sorted(store.list())
    assert log.integrate(300, []) == (300, subtree_root(hashes))
    assert sorted(store.list()) == before


@pytest.mark.parametrize("crash_after", [0, 1, 3, 5, 8])
def test_rerun_after_a_crash_is_idempotent(store: LocalObjectStore, crash_after: int) -> None:
    hashes = leaves(3000, seed=2)
    TileLog(store).integrate(0, hashes[:700])
    crashing = RecordingStore(store, crash_after=crash_after)
    with pytest.raises(SimulatedCrash):
        TileLog(crashing).integrate(700, hashes[700:3000])
    # A new process re-runs the integration from the last published size.
    size, root = TileLog(store).integrate(700, hashes[700:3000])
    assert (size, root) == (3000, subtree_root(hashes))
    check_tree(store, 3000, root)
    # And running it once more writes nothing new.
    recording = RecordingStore(store)
    assert TileLog(recording).integrate(700, hashes[700:3000]) == (3000, root)
    assert recording.created == [] and recording.overwrites == []


def test_resume_from_a_size_that_was_not_a_batch_end(store: LocalObjectStore) -> None:
    hashes = leaves(1000)
    integrate_in_batches(TileLog(store), hashes, [300, 700])
    assert TileLog(store).integrate(500, hashes[500:600]) == (600, subtree_root(hashes[:600]))
    assert TileLog(store).integrate(500, hashes[500:]) == (1000, subtree_root(hashes))


def test_a_different_leaf_in_a_full_tile_conflicts(store: LocalObjectStore) -> None:
    hashes = leaves(1000)
    integrate_in_batches(TileLog(store), hashes, [1000])
    forged = hashes[:]
    forged[100] = leaf_hash(b"forged")
    with pytest.raises(TileConflict) as caught:
        TileLog(store).integrate(0, forged[:300])
    assert caught.value.key == tile_key(0, 0)


def test_a_different_leaf_in_a_partial_tile_conflicts(store: LocalObjectStore) -> None:
    hashes = leaves(1000)
    integrate_in_batches(TileLog(store), hashes, [300, 700])
    before = sorted(store.list())
    forged = hashes[:]
    forged[270] = leaf_hash(b"forged")
    with pytest.raises(TileConflict):  # tile/0/001.p/30 is new, but 001 is stored wider
        TileLog(store).integrate(256, forged[256:286])
    forged = hashes[:]
    forged[800] = leaf_hash(b"forged")
    with pytest.raises(TileConflict):  # full tile 003 is new; its partial .p/232 is not
        TileLog(store).integrate(300, forged[300:1100] + leaves(100, seed=9))
    assert sorted(store.list()) == before  # the probe runs before any write


def test_a_conflict_leaves_the_log_usable(store: LocalObjectStore) -> None:
    hashes = leaves(600)
    log = TileLog(store)
    log.integrate(0, hashes[:300])
    with pytest.raises(TileConflict):
        log.integrate(0, leaves(300, seed=5))
    assert log.integrate(300, hashes[300:]) == (600, subtree_root(hashes))


def test_integrate_rejects_bad_input(store: LocalObjectStore) -> None:
    log = TileLog(store)
    with pytest.raises(InvalidInput):
        log.integrate(0, [b"\x00" * 31])
    with pytest.raises(InvalidInput):
        log.integrate(-1, leaves(1))
    with pytest.raises(MissingTile):  # nothing was integrated up to 10
        log.integrate(10, leaves(1))


def test_reader_reads_nodes_between_stored_levels(store: LocalObjectStore) -> None:
    hashes = leaves(70000)
    integrate_in_batches(TileLog(store), hashes, [70000])
    reader = TileReader(store, 70000)
    assert reader.root() == subtree_root(hashes)
    for level, index in [(0, 69999), (3, 7), (7, 273), (8, 272), (9, 1), (12, 16), (16, 0)]:
        span = hashes[index << level : (index + 1) << level]
        assert reader.node(level, index) == subtree_root(span), (level, index)
    for level, index in [(0, 70000), (8, 273), (16, 1), (17, 0), (-1, 0), (0, -1), (64, 0)]:
        with pytest.raises(InvalidInput):
            reader.node(level, index)
    assert TileReader(store, 0).root() == EMPTY_ROOT
    assert TileReader(store, 1000).root() == subtree_root(hashes[:1000])


def test_reader_falls_back_to_the_full_tile(store: LocalObjectStore) -> None:
    hashes = leaves(512)
    integrate_in_batches(TileLog(store), hashes, [100, 412])
    store.delete(tile_key(0, 0, 100))  # logs may delete partial tiles once the full one exists
    assert TileReader(store, 100).root() == subtree_root(hashes[:100])
    store.delete(tile_key(0, 1))
    with pytest.raises(MissingTile):
        TileReader(store, 512).node(0, 300)


@pytest.mark.parametrize("cut", [1, 31, 32, 8191])
def test_truncated_tile_is_invalid(store: LocalObjectStore, cut: int) -> None:
    hashes = leaves(1000)
    root = integrate_in_batches(TileLog(store), hashes, [1000])
    key = tile_key(0, 1)
    store.put(key, store.get(key)[:-cut], overwrite=True)
    with pytest.raises(InvalidTile) as caught:
        TileReader(store, 1000).node(0, 300)
    assert caught.value.key == key
    with pytest.raises(InvalidTile):
        check_tree(store, 1000, root)


def test_padded_partial_tile_is_invalid(store: LocalObjectStore) -> None:
    root = integrate_in_batches(TileLog(store), leaves(1000), [1000])
    key = tile_key(0, 3, 232)
    store.put(key, store.get(key) + b"\x00" * 32, overwrite=True)
    with pytest.raises(InvalidTile):
        TileReader(store, 1000).root()
    with pytest.raises(InvalidTile):
        check_tree(store, 1000, root)


def test_check_tree_accepts_an_intact_tree(store: LocalObjectStore) -> None:
    hashes = leaves(70000)
    root = integrate_in_batches(TileLog(store), hashes, [1000] * 70)
    check_tree(store, 70000, root)
    check_tree(store, 0, EMPTY_ROOT)
    with pytest.raises(RootMismatch) as caught:
        check_tree(store, 70000, subtree_root(hashes[:69999]))
    assert caught.value.key is None


@pytest.mark.parametrize(
    ("key", "blamed"),
    [
        ("tile/0/200", None),  # a deep level-0 tile that computing the root alone never reads
        ("tile/0/273.p/112", None),
        ("tile/1/000", "tile/1/000"),
        ("tile/1/001.p/17", "tile/1/001.p/17"),
        ("tile/2/000.p/1", "tile/2/000.p/1"),
    ],
)
def test_bit_flipped_tile_is_a_root_mismatch(
    store: LocalObjectStore, key: str, blamed: str | None
) -> None:
    hashes = leaves(70000)
    root = integrate_in_batches(TileLog(store), hashes, [70000])
    flip(store, key, position=17)
    with pytest.raises(RootMismatch) as caught:
        check_tree(store, 70000, root)
    assert caught.value.key == blamed


try:
    from tests.blobs.conftest import S3Endpoint, s3_endpoint  # noqa: F401  (a fixture)
except ImportError:  # pragma: no cover - moto missing
    S3Endpoint = None  # type: ignore[assignment,misc]


@pytest.mark.slow
@pytest.mark.skipif(S3Endpoint is None, reason="moto is not installed")
def test_tiles_on_s3(s3_endpoint: S3Endpoint) -> None:
    from clearroom.blobs import S3ObjectStore

    objects = S3ObjectStore(s3_endpoint.settings(f"tlog-{random.randrange(1 << 32):08x}"))
    entries = [f"entry {i}".encode() for i in range(1500)]
    hashes = [leaf_hash(e) for e in entries]
    log, size = TileLog(objects), 0
    for count in (1, 300, 700):
        size, root = log.append(size, entries[size : size + count])
    assert TileReader(objects, size).root() == root == subtree_root(hashes[:1001])
    crashing = RecordingStore(objects, crash_after=2)
    with pytest.raises(SimulatedCrash):
        TileLog(crashing).append(1001, entries[1001:])
    size, root = TileLog(objects).append(1001, entries[1001:])
    assert (size, root) == (1500, subtree_root(hashes))
    check_tree(objects, 1500, root, entries=True)
    with pytest.raises(TileConflict):
        TileLog(objects).append(0, [b"forged", *entries[1:300]])
    assert TileRef(0, 5, 220).key in set(objects.list("tile/0"))


def test_proofs_from_tiles_verify(store: LocalObjectStore) -> None:
    """TileReader is the NodeReader that proofs are made from (clearroom.tlog.merkle)."""
    merkle = pytest.importorskip("clearroom.tlog.merkle")
    hashes = leaves(70000)
    integrate_in_batches(TileLog(store), hashes, [1000, 65000, 4000])
    rng = random.Random(9162)
    for size in (1, 256, 1000, 66000, 70000):
        reader: NodeReader = TileReader(store, size)
        root = subtree_root(hashes[:size])
        for index in {0, size - 1, rng.randrange(size)}:
            proof = merkle.inclusion_proof(reader, size, index)
            merkle.verify_inclusion(hashes[index], index, size, proof, root)
        old = rng.randrange(1, size + 1)
        proof = merkle.consistency_proof(reader, old, size)
        merkle.verify_consistency(old, size, proof, subtree_root(hashes[:old]), root)
