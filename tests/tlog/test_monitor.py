"""The log monitor (clearroom.tlog.monitor) against real logs written by TileLog and served by a
simulator that lets a test tamper with any object (python-tuf's repository simulator idea).
Tests are named after the attack or defect they catch."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from clearroom.blobs import LocalObjectStore
from clearroom.tlog.checkpoint import Checkpoint
from clearroom.tlog.client import (
    MAX_BUNDLE_BYTES,
    MAX_CHECKPOINT_BYTES,
    MAX_TILE_BYTES,
    ObjectStoreFetcher,
)
from clearroom.tlog.errors import (
    BadCosignature,
    EntryMismatch,
    Inconsistency,
    InvalidBundle,
    InvalidInput,
    InvalidMonitorState,
    InvalidProof,
    InvalidSignature,
    InvalidTile,
    MissingTile,
    NotEnoughCosignatures,
    ObjectMissing,
    ResponseTooLarge,
    RollbackDetected,
    RootMismatch,
    SplitView,
    UnverifiedNote,
    WrongOrigin,
)
from clearroom.tlog.hashing import EMPTY_ROOT
from clearroom.tlog.layout import CHECKPOINT_KEY, bundle_key, tile_key
from clearroom.tlog.merkle import verify_consistency
from clearroom.tlog.monitor import (
    FileMonitorState,
    MemoryMonitorState,
    Monitor,
    MonitorOptions,
    MonitorState,
    VerifiedCheckpoint,
)
from clearroom.tlog.note import (
    NoteSigner,
    Signer,
    Verifier,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
    sign,
)

ORIGIN = "example.com/log"


def entries(start: int, count: int, tag: str = "") -> list[bytes]:
    return [f"entry {i}{tag}".encode() for i in range(start, start + count)]


class SimulatedLog:
    """A log being written (TileLog over a LocalObjectStore) and served through the `Fetcher`
    protocol; ``overrides`` are served instead of the stored objects, ``missing`` as absent."""

    def __init__(self, root: Path, *, signer: Signer | None = None, origin: str = ORIGIN) -> None:
        from clearroom.tlog.tiles import TileLog

        self.store = LocalObjectStore(root)
        self.log = TileLog(self.store)
        self.origin = origin
        if signer is None:
            skey, _ = generate_key(ORIGIN)
            signer = parse_signer_key(skey)
        self.signer = signer
        self.verifier: Verifier = signer.verifier()
        self.size, self.root = 0, EMPTY_ROOT
        self.overrides: dict[str, bytes] = {}
        self.missing: set[str] = set()
        self.fetched: list[str] = []
        self._inner = ObjectStoreFetcher(self.store)

    # Writing ------------------------------------------------------------------------------

    def append(self, batch: list[bytes], *, cosigners: tuple[NoteSigner, ...] = ()) -> bytes:
        """Integrate ``batch``, sign and publish the new checkpoint; returns its note."""
        if batch:
            self.size, self.root = self.log.append(self.size, batch)
        return self.publish(cosigners=cosigners)

    def publish(self, *, cosigners: tuple[NoteSigner, ...] = ()) -> bytes:
        text = Checkpoint(self.origin, self.size, self.root).to_text()
        note = sign(text, [self.signer, *cosigners]).encode()
        self.store.put(CHECKPOINT_KEY, note)
        return note

    # Serving and tampering ----------------------------------------------------------------

    def tamper(self, key: str, change: Callable[[bytes], bytes]) -> None:
        self.overrides[key] = change(self.store.get(key))

    def fetch(self, key: str, max_bytes: int) -> bytes:
        self.fetched.append(key)
        if key in self.missing:
            raise ObjectMissing(key)
        if key in self.overrides:
            data = self.overrides[key]
            if len(data) > max_bytes:
                raise ResponseTooLarge(key, max_bytes, len(data))
            return data
        return self._inner.fetch(key, max_bytes)

    def close(self) -> None:
        pass

    def __enter__(self) -> SimulatedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def monitor(self, state: MonitorState | None = None, **kwargs: object) -> Monitor:
        return Monitor(self, self.verifier, state=state or MemoryMonitorState(), **kwargs)


def flip(position: int) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]

    return change


@pytest.fixture
def sim(tmp_path: Path) -> SimulatedLog:
    return SimulatedLog(tmp_path / "log")


# --- Honest logs ----------------------------------------------------------------------------


def test_first_run_verifies_every_entry_and_saves_the_checkpoint(sim: SimulatedLog) -> None:
    note = sim.append(entries(0, 1000))
    monitor = sim.monitor()
    report = monitor.run()
    assert (report.previous_size, report.size, report.root) == (None, 1000, sim.root)
    assert report.entries_checked == 1000
    assert report.bundles_fetched == 4
    assert report.tiles_fetched == 5  # tile/0/000..002, tile/0/003.p/232, tile/1/000.p/3
    assert report.bytes_fetched > 1000 * 32
    assert report.consistency_proof == ()
    saved = monitor.state.load()
    assert saved == VerifiedCheckpoint(note, 1000, sim.root)


def test_empty_log_verifies(sim: SimulatedLog) -> None:
    sim.append([])
    report = sim.monitor().run()
    assert (report.size, report.root, report.entries_checked) == (0, EMPTY_ROOT, 0)


@pytest.mark.parametrize(
    "sizes",
    [
        [1, 2, 3],
        [255, 256, 257],
        [256, 512, 513, 70000],
        [1000, 1000, 1600],
        [65536, 65537],
        [7, 300, 301, 66000],
    ],
)
def test_growth_is_proved_consistent_and_only_new_bundles_are_fetched(
    sim: SimulatedLog, sizes: list[int]
) -> None:
    monitor = sim.monitor()
    previous, old_root = None, EMPTY_ROOT
    for size in sizes:
        sim.append(entries(sim.size, size - sim.size))
        sim.fetched.clear()
        report = monitor.run()
        assert (report.previous_size, report.size, report.root) == (previous, size, sim.root)
        start = 0 if previous is None else previous
        first_bundle = start // 256 if size > start else size // 256 + 1
        assert report.entries_checked == max(0, size - first_bundle * 256)
        bundles = [k for k in sim.fetched if k.startswith(bundle_key(0)[:-3])]
        assert bundles == [
            bundle_key(i, min(256, size - i * 256))
            for i in range(first_bundle, (size + 255) // 256)
        ]
        if previous and previous < size:
            verify_consistency(previous, size, list(report.consistency_proof), old_root, sim.root)
        previous, old_root = size, sim.root


def test_fetching_ahead_on_threads_gives_the_same_report(sim: SimulatedLog) -> None:
    sim.append(entries(0, 3000))
    one = sim.monitor(options=MonitorOptions(fetch_workers=1)).run()
    many = sim.monitor(options=MonitorOptions(fetch_workers=6)).run()
    assert (one.entries_checked, one.tiles_fetched, one.bundles_fetched, one.bytes_fetched) == (
        many.entries_checked,
        many.tiles_fetched,
        many.bundles_fetched,
        many.bytes_fetched,
    )


def test_partial_tiles_deleted_after_the_full_ones_exist_are_read_from_the_full_ones(
    sim: SimulatedLog,
) -> None:
    note = sim.append(entries(0, 300))
    sim.append(entries(300, 300))  # tile/0/001 and bundle 001 are now full
    sim.overrides[CHECKPOINT_KEY] = note  # a reader still at size 300
    sim.missing |= {tile_key(0, 1, 44), bundle_key(1, 44)}
    report = sim.monitor().run()
    assert (report.size, report.entries_checked) == (300, 300)
    assert tile_key(0, 1) in sim.fetched and bundle_key(1) in sim.fetched


def test_a_random_history_stays_consistent(tmp_path: Path) -> None:
    rng = random.Random(7)
    sim = SimulatedLog(tmp_path)
    state = FileMonitorState(tmp_path / "state.json")
    for _ in range(12):
        sim.append(entries(sim.size, rng.choice([0, 1, 5, 200, 256, 700])))
        report = sim.monitor(state).run()  # a new process each time, same state file
        assert report.size == sim.size


# --- A log that lies -------------------------------------------------------------------------


def test_split_view_two_trees_of_the_same_size_is_reported_with_both_checkpoints(
    tmp_path: Path,
) -> None:
    honest = SimulatedLog(tmp_path / "a")
    seen = honest.append(entries(0, 500))
    state = MemoryMonitorState()
    honest.monitor(state).run()
    fork = SimulatedLog(tmp_path / "b", signer=honest.signer)  # same key, other history
    other = fork.append(entries(0, 500, tag=" (fork)"))
    with pytest.raises(SplitView) as caught:
        fork.monitor(state).run()
    err = caught.value
    assert isinstance(err, Inconsistency)
    assert (err.smaller, err.larger, err.proof) == (seen, other, ())
    assert "SPLIT VIEW" in str(err)
    evidence = err.evidence()
    assert evidence["smaller"] == seen.decode() and evidence["larger"] == other.decode()
    json.dumps(evidence)
    assert state.load() == VerifiedCheckpoint(seen, 500, honest.root)  # nothing new kept


@pytest.mark.parametrize("fork_at", [0, 255, 256, 499])
def test_history_rewritten_behind_the_monitor_is_an_inconsistency_with_the_proof(
    tmp_path: Path, fork_at: int
) -> None:
    honest = SimulatedLog(tmp_path / "a")
    seen = honest.append(entries(0, 500))
    state = MemoryMonitorState()
    honest.monitor(state).run()
    rewritten = SimulatedLog(tmp_path / "b", signer=honest.signer)
    rewritten.append(entries(0, fork_at) + entries(fork_at, 500 - fork_at, tag=" (rewritten)"))
    larger = rewritten.append(entries(500, 300))
    with pytest.raises(Inconsistency) as caught:
        rewritten.monitor(state).run()
    err = caught.value
    assert not isinstance(err, SplitView)
    assert (err.smaller, err.larger) == (seen, larger)
    assert "INCONSISTENT" in str(err)
    assert len(err.proof) > 0
    with pytest.raises(InvalidProof):  # the evidence convinces anyone who re-checks it
        verify_consistency(500, 800, list(err.proof), honest.root, rewritten.root)
    assert err.evidence()["proof"] == [h.hex() for h in err.proof]
    assert state.load() is not None and state.load().size == 500


def test_rollback_to_an_older_checkpoint_is_reported(sim: SimulatedLog) -> None:
    old = sim.append(entries(0, 500))
    new = sim.append(entries(500, 300))
    monitor = sim.monitor()
    monitor.run()
    sim.overrides[CHECKPOINT_KEY] = old
    with pytest.raises(RollbackDetected) as caught:
        monitor.run()
    assert (caught.value.previous, caught.value.current) == (new, old)
    assert (caught.value.previous_size, caught.value.size) == (800, 500)
    assert "ROLLBACK" in str(caught.value)


def test_checkpoint_by_an_unknown_key_is_refused(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    _, other = generate_key(ORIGIN)
    with pytest.raises(UnverifiedNote):
        Monitor(sim, parse_verifier_key(other)).run()


def test_checkpoint_for_another_log_is_refused(tmp_path: Path) -> None:
    sim = SimulatedLog(tmp_path, origin="other.example/log")  # signed by the right key
    sim.append(entries(0, 10))
    with pytest.raises(WrongOrigin):
        sim.monitor().run()


def test_monitor_configured_for_another_origin_refuses_the_checkpoint(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    with pytest.raises(WrongOrigin):
        sim.monitor(origin="example.org/another").run()


def test_altered_checkpoint_text_breaks_the_log_signature(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    sim.tamper(CHECKPOINT_KEY, lambda note: note.replace(b"\n10\n", b"\n9\n", 1))
    with pytest.raises(InvalidSignature):
        sim.monitor().run()


# --- Damaged or altered objects --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "blamed"),
    [
        (tile_key(0, 1), tile_key(0, 1)),
        (tile_key(0, 3, 232), tile_key(0, 3, 232)),
        (tile_key(1, 0, 3), tile_key(1, 0, 3)),
    ],
)
def test_bit_flipped_tile_is_named(sim: SimulatedLog, key: str, blamed: str) -> None:
    sim.append(entries(0, 1000))
    sim.tamper(key, flip(40))
    with pytest.raises(RootMismatch) as caught:
        sim.monitor().run()
    assert caught.value.key == blamed


def test_bit_flipped_tile_used_by_the_consistency_proof_is_not_called_a_fork(
    sim: SimulatedLog,
) -> None:
    sim.append(entries(0, 300))
    monitor = sim.monitor()
    monitor.run()
    sim.append(entries(300, 500))
    sim.tamper(tile_key(0, 1), flip(5))  # holds leaves 256..511: on the proof's path
    with pytest.raises(RootMismatch) as caught:
        monitor.run()
    assert not isinstance(caught.value, Inconsistency)
    assert caught.value.key == tile_key(0, 1)


def test_truncated_tile_is_invalid(sim: SimulatedLog) -> None:
    sim.append(entries(0, 1000))
    sim.tamper(tile_key(0, 2), lambda data: data[:-1])
    with pytest.raises(InvalidTile) as caught:
        sim.monitor().run()
    assert caught.value.key == tile_key(0, 2)


def test_missing_tile_is_reported(sim: SimulatedLog) -> None:
    sim.append(entries(0, 1000))
    sim.missing.add(tile_key(0, 2))
    with pytest.raises(MissingTile):
        sim.monitor().run()


def test_bit_flipped_entry_in_a_bundle_is_named(sim: SimulatedLog) -> None:
    sim.append(entries(0, 1000))
    sim.tamper(bundle_key(2), flip(2 + 3))  # inside entry 512, after its length prefix
    with pytest.raises(EntryMismatch) as caught:
        sim.monitor().run()
    assert (caught.value.key, caught.value.index) == (bundle_key(2), 512)
    assert caught.value.evidence()["bundle"] == bundle_key(2)


def test_truncated_bundle_is_invalid(sim: SimulatedLog) -> None:
    sim.append(entries(0, 1000))
    sim.tamper(bundle_key(1), lambda data: data[:-3])
    with pytest.raises(InvalidBundle) as caught:
        sim.monitor().run()
    assert caught.value.key == bundle_key(1)


def test_bundle_with_trailing_bytes_is_invalid(sim: SimulatedLog) -> None:
    sim.append(entries(0, 100))
    sim.tamper(bundle_key(0, 100), lambda data: data + b"\x00\x01x")
    with pytest.raises(InvalidBundle):
        sim.monitor().run()


def test_altered_entry_behind_the_monitor_is_caught_on_the_next_full_check(
    sim: SimulatedLog,
) -> None:
    sim.append(entries(0, 600))
    sim.monitor().run()
    sim.tamper(bundle_key(0), flip(5))
    with pytest.raises(EntryMismatch):
        sim.monitor().run()  # a fresh monitor re-hashes from 0


@pytest.mark.parametrize(
    ("key", "size"),
    [
        (CHECKPOINT_KEY, MAX_CHECKPOINT_BYTES + 1),
        (tile_key(0, 0), MAX_TILE_BYTES + 1),
        (bundle_key(0), MAX_BUNDLE_BYTES + 1),
    ],
)
def test_oversized_responses_are_refused(sim: SimulatedLog, key: str, size: int) -> None:
    sim.append(entries(0, 300))
    sim.overrides[key] = b"\n" * size
    with pytest.raises(ResponseTooLarge) as caught:
        sim.monitor().run()
    assert caught.value.limit == size - 1


# --- Cosigners --------------------------------------------------------------------------------


def witness(name: str = "witness.example/w1") -> tuple[NoteSigner, Verifier]:
    skey, vkey = generate_key(name, cosignature=True)
    return parse_signer_key(skey, clock=lambda: 1_700_000_000), parse_verifier_key(vkey)


def test_cosigners_are_reported_and_a_missing_one_is_a_warning(sim: SimulatedLog) -> None:
    w1, v1 = witness("witness.example/w1")
    _, v2 = witness("witness.example/w2")
    sim.append(entries(0, 10), cosigners=(w1,))
    report = sim.monitor(cosigners=(v1, v2)).run()
    assert [(c.name, c.status, c.timestamp) for c in report.cosigners] == [
        ("witness.example/w1", "verified", 1_700_000_000),
        ("witness.example/w2", "missing", None),
    ]
    assert len(report.warnings) == 1 and "witness.example/w2" in report.warnings[0]


def test_a_required_cosignature_that_is_missing_fails_and_nothing_is_remembered(
    sim: SimulatedLog,
) -> None:
    w1, v1 = witness("witness.example/w1")
    _, v2 = witness("witness.example/w2")
    sim.append(entries(0, 10), cosigners=(w1,))
    assert sim.monitor(cosigners=(v1, v2), options=MonitorOptions(min_cosignatures=1)).run()
    state = MemoryMonitorState()
    strict = sim.monitor(
        cosigners=(v1, v2), state=state, options=MonitorOptions(min_cosignatures=2)
    )
    with pytest.raises(NotEnoughCosignatures, match="1 witness cosignature"):
        strict.run()
    assert state.load() is None
    with pytest.raises(InvalidInput, match="only 2 cosigner keys"):
        sim.monitor(cosigners=(v1, v2), options=MonitorOptions(min_cosignatures=3))


def test_cosigner_signing_with_another_key_is_a_warning(sim: SimulatedLog) -> None:
    rotated, _ = witness("witness.example/w1")
    _, configured = witness("witness.example/w1")
    sim.append(entries(0, 10), cosigners=(rotated,))
    report = sim.monitor(cosigners=(configured,)).run()
    assert report.cosigners[0].status == "other key"
    assert "not configured" in report.warnings[0]


def test_bad_cosignature_is_an_error_with_the_checkpoint(sim: SimulatedLog) -> None:
    w1, v1 = witness()
    note = sim.append(entries(0, 10), cosigners=(w1,))
    lines = note.split(b"\n")
    prefix, _, encoded = lines[-2].rpartition(b" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[4 + 8 + 10] ^= 0x01  # inside the Ed25519 signature; key ID and timestamp intact
    lines[-2] = prefix + b" " + base64.b64encode(bytes(raw))
    sim.overrides[CHECKPOINT_KEY] = b"\n".join(lines)
    with pytest.raises(BadCosignature) as caught:
        sim.monitor(cosigners=(v1,)).run()
    assert caught.value.name == w1.name
    assert "checkpoint" in caught.value.evidence()


# --- State -----------------------------------------------------------------------------------


def test_file_state_survives_a_restart_and_is_replaced_atomically(
    sim: SimulatedLog, tmp_path: Path
) -> None:
    path = tmp_path / "state" / "monitor.json"
    note = sim.append(entries(0, 300))
    sim.monitor(FileMonitorState(path)).run()
    assert FileMonitorState(path).load() == VerifiedCheckpoint(note, 300, sim.root)
    assert sorted(p.name for p in path.parent.iterdir()) == ["monitor.json"]
    sim.append(entries(300, 10))
    report = sim.monitor(FileMonitorState(path)).run()
    assert (report.previous_size, report.size) == (300, 310)


def test_state_is_not_saved_when_the_check_fails(sim: SimulatedLog, tmp_path: Path) -> None:
    path = tmp_path / "monitor.json"
    sim.append(entries(0, 300))
    sim.monitor(FileMonitorState(path)).run()
    before = path.read_bytes()
    sim.append(entries(300, 300))
    sim.tamper(bundle_key(1), flip(7))
    with pytest.raises(EntryMismatch):
        sim.monitor(FileMonitorState(path)).run()
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [b"not json", b"{}", b'{"format": "clearroom-tlog-monitor/v1", "size": -1}', b"[]"],
)
def test_unreadable_state_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "monitor.json"
    path.write_bytes(content)
    with pytest.raises(InvalidMonitorState):
        FileMonitorState(path).load()


def test_state_of_another_log_is_refused(tmp_path: Path) -> None:
    one, two = SimulatedLog(tmp_path / "one"), SimulatedLog(tmp_path / "two")
    one.append(entries(0, 5))
    two.append(entries(0, 5))
    state = MemoryMonitorState()
    one.monitor(state).run()
    with pytest.raises(InvalidMonitorState):
        two.monitor(state).run()


def test_state_whose_numbers_disagree_with_its_note_is_refused(sim: SimulatedLog) -> None:
    note = sim.append(entries(0, 5))
    state = MemoryMonitorState(VerifiedCheckpoint(note, 4, sim.root))
    with pytest.raises(InvalidMonitorState):
        sim.monitor(state).run()
