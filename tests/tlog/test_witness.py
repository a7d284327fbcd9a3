"""witness.py: the C2SP tlog-witness add-checkpoint protocol over real Merkle trees, every
status code of the spec, each attack named: split view, rollback, replay, forged signature,
proof tampering, oversized body, and two writers racing from the same old size."""

from __future__ import annotations

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from clearroom.tlog.checkpoint import Checkpoint, Cosignature, open_checkpoint, sign_checkpoint
from clearroom.tlog.errors import InvalidInput, WitnessStateError
from clearroom.tlog.hashing import EMPTY_ROOT, leaf_hash
from clearroom.tlog.merkle import MemoryTree
from clearroom.tlog.note import CosignatureSigner, Signer, sign
from clearroom.tlog.witness import (
    MAX_BODY_SIZE,
    SIZE_CONTENT_TYPE,
    Evidence,
    FileWitnessState,
    LogState,
    MemoryWitnessState,
    Witness,
    WitnessState,
    encode_request,
)

ORIGIN = "example.com/log"
LOG = Signer(ORIGIN, b"\x11" * 32)
W1 = CosignatureSigner("witness.example/w1", b"\x33" * 32, clock=lambda: 1_700_000_000)


class Log:
    """A log: a real Merkle tree and the log's key; ``fork`` names a divergent history."""

    def __init__(self, size: int = 0, *, fork: bytes = b"", fork_at: int = 0) -> None:
        self.tree = MemoryTree()
        self.fork, self.fork_at = fork, fork_at
        self.grow(size)

    def grow(self, n: int) -> Log:
        start = self.tree.size
        self.tree.extend(
            leaf_hash((self.fork if i >= self.fork_at else b"") + b"entry %d" % i)
            for i in range(start, start + n)
        )
        return self

    def checkpoint(self, size: int | None = None, signer: Signer = LOG) -> bytes:
        size = self.tree.size if size is None else size
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.tree.root(size)), signer)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        return self.tree.consistency_proof(old, new)


def make_witness(state: WitnessState | None = None, **kwargs) -> Witness:
    return Witness(W1, {ORIGIN: LOG.verifier()}, state or MemoryWitnessState(), **kwargs)


def add(witness: Witness, old: int, proof: list[bytes], note: bytes):
    return witness.add_checkpoint(encode_request(old, proof, note))


def seeded(size: int) -> tuple[Witness, Log]:
    """A witness that has cosigned ``size`` of a fresh log."""
    witness, log = make_witness(), Log(size)
    assert add(witness, 0, [], log.checkpoint()).status == 200
    return witness, log


def assert_conflict(response, size: int) -> None:
    assert (response.status, response.content_type) == (409, SIZE_CONTENT_TYPE)
    assert response.body == b"%d\n" % size


# --- the happy path ------------------------------------------------------------------------


def test_first_checkpoint_is_cosigned_with_old_0_and_no_proof():
    witness, log = make_witness(), Log(5)
    note = log.checkpoint()
    response = add(witness, 0, [], note)
    assert response.status == 200
    line = response.body.decode()
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    # The cosignature verifies with the witness's verifier over the checkpoint text...
    raw = base64.b64decode(line.split(" ")[2])
    assert int.from_bytes(raw[:4], "big") == W1.key_id
    assert W1.verifier().verify(Checkpoint(ORIGIN, 5, log.tree.root()).to_text().encode(), raw[4:])
    # ...and as an extra signature line on the note (C2SP tlog-cosignature).
    cp, cosigs = open_checkpoint(note + response.body, LOG.verifier(), cosigners=[W1.verifier()])
    assert cp.size == 5
    assert cosigs == (Cosignature(W1.name, W1.key_id, 1_700_000_000),)
    assert witness.verifier_key == W1.verifier().to_key()


def test_growth_with_a_valid_consistency_proof_is_cosigned():
    witness, log = seeded(5)
    for new in (6, 8, 13, 64, 100):
        old = log.tree.size
        log.grow(new - old)
        response = add(witness, old, log.proof(old), log.checkpoint())
        assert response.status == 200, response.body
        open_checkpoint(log.checkpoint() + response.body, LOG.verifier(), cosigners=[W1.verifier()])


def test_the_same_checkpoint_again_is_cosigned_again():
    witness, log = seeded(7)
    assert add(witness, 7, [], log.checkpoint()).status == 200


def test_cosignature_covers_extension_lines():
    witness, log = make_witness(), Log(3)
    cp = Checkpoint(ORIGIN, 3, log.tree.root(), ("ext: one",))
    note = sign_checkpoint(cp, LOG)
    response = add(witness, 0, [], note)
    assert response.status == 200
    _, cosigs = open_checkpoint(note + response.body, LOG.verifier(), cosigners=[W1.verifier()])
    assert len(cosigs) == 1


def test_signatures_by_unknown_keys_are_ignored():
    stranger = Signer("stranger.example", b"\x55" * 32)
    log = Log(4)
    text = Checkpoint(ORIGIN, 4, log.tree.root()).to_text()
    note = sign(text, [stranger, LOG]).encode()
    assert add(make_witness(), 0, [], note).status == 200


def test_an_empty_first_checkpoint_must_have_the_empty_root():
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG)
    assert add(make_witness(), 0, [], empty).status == 200
    lying = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x01" * 32), LOG)
    assert add(make_witness(), 0, [], lying).status == 409


# --- attacks -------------------------------------------------------------------------------


def test_split_view_two_roots_for_one_size_is_409_and_kept_as_evidence():
    kept: list[Evidence] = []
    witness = make_witness(on_evidence=kept.append)
    honest, forked = Log(5), Log(5, fork=b"evil ", fork_at=3)
    assert add(witness, 0, [], honest.checkpoint()).status == 200
    response = add(witness, 5, [], forked.checkpoint())
    assert response.status == 409 and response.content_type != SIZE_CONTENT_TYPE
    assert b"split view" in response.body
    assert [e.reason for e in kept] == ["same size, different root"]
    assert kept[0].recorded is not None and kept[0].recorded.root_hash == honest.tree.root()
    # The witness still holds the first view.
    assert add(witness, 5, [], honest.checkpoint()).status == 200


def test_split_view_that_grows_fails_the_consistency_proof_with_422():
    kept: list[Evidence] = []
    witness = make_witness(on_evidence=kept.append)
    honest, forked = Log(5), Log(9, fork=b"evil ", fork_at=2)
    assert add(witness, 0, [], honest.checkpoint()).status == 200
    response = add(witness, 5, forked.proof(5), forked.checkpoint())
    assert response.status == 422
    assert len(kept) == 1


def test_rollback_to_a_smaller_tree_is_refused():
    witness, log = seeded(5)
    log.grow(7)
    assert add(witness, 5, log.proof(5), log.checkpoint()).status == 200
    old_note = log.checkpoint(5)
    # Claiming the witness's size as old size: the old size exceeds the checkpoint's (400).
    assert add(witness, 12, [], old_note).status == 400
    # Claiming the old checkpoint's own size: not the witness's size (409 with 12).
    assert_conflict(add(witness, 5, [], old_note), 12)


def test_replay_of_an_old_checkpoint_as_a_first_one_is_409():
    witness, log = seeded(5)
    log.grow(3)
    assert add(witness, 5, log.proof(5), log.checkpoint()).status == 200
    assert_conflict(add(witness, 0, [], log.checkpoint(5)), 8)
    assert_conflict(add(witness, 0, [], log.checkpoint(8)), 8)


def test_stale_old_size_gets_the_witness_size_and_a_retry_succeeds():
    witness, log = seeded(5)
    log.grow(10)
    assert_conflict(add(witness, 3, log.proof(3), log.checkpoint()), 5)
    assert add(witness, 5, log.proof(5), log.checkpoint()).status == 200


def test_forged_signature_is_403():
    witness, log = make_witness(), Log(5)
    impostor = Signer(ORIGIN, b"\x66" * 32)  # the right name, another key
    assert add(witness, 0, [], log.checkpoint(signer=impostor)).status == 403
    # The log's real signature over other text: the note was altered.
    note = log.checkpoint()
    altered = note.replace(b"\n5\n", b"\n6\n", 1)
    assert add(witness, 0, [], altered).status == 403
    # A witness's cosignature alone is not the log's signature.
    text = Checkpoint(ORIGIN, 5, log.tree.root()).to_text()
    assert add(witness, 0, [], sign(text, [W1]).encode()).status == 403


def test_unknown_origin_is_404():
    other = Signer("example.com/other", b"\x22" * 32)
    tree = MemoryTree([leaf_hash(b"x")])
    note = sign_checkpoint(Checkpoint("example.com/other", 1, tree.root()), other)
    assert add(make_witness(), 0, [], note).status == 404


def _flip(proof: list[bytes]) -> list[bytes]:
    return [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_flip, id="flipped-bit"),
        pytest.param(lambda p: p[:-1], id="hash-dropped"),
        pytest.param(lambda p: [*p, p[0]], id="hash-added"),
        pytest.param(lambda p: p[::-1], id="reordered"),
        pytest.param(lambda p: [], id="emptied"),
    ],
)
def test_proof_tampering_is_422(tamper):
    witness, log = seeded(6)
    log.grow(20)
    response = add(witness, 6, tamper(log.proof(6)), log.checkpoint())
    assert response.status == 422, response.body
    assert add(witness, 6, log.proof(6), log.checkpoint()).status == 200


def test_a_proof_between_equal_sizes_must_be_empty():
    witness, log = seeded(6)
    assert add(witness, 6, [b"\x00" * 32], log.checkpoint()).status == 422


def test_oversized_body_is_413():
    witness, log = make_witness(), Log(5)
    note = log.checkpoint()
    padded = note + b"\n" * (MAX_BODY_SIZE + 1 - len(note))
    assert witness.add_checkpoint(b"old 0\n\n" + padded).status == 413


NOTE = Log(5).checkpoint()
HASH = base64.b64encode(b"\x07" * 32)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"old 0\n" + NOTE, id="no-blank-line"),
        pytest.param(b"old 05\n\n" + NOTE, id="leading-zero"),
        pytest.param(b"old -1\n\n" + NOTE, id="negative"),
        pytest.param(b"old  1\n\n" + NOTE, id="two-spaces"),
        pytest.param(b"Old 1\n\n" + NOTE, id="capital"),
        pytest.param(b"old 1\r\n\r\n" + NOTE, id="crlf"),
        pytest.param(b"old 18446744073709551616\n\n" + NOTE, id="beyond-uint64"),
        pytest.param(b"\n" + NOTE, id="no-old-line"),
        pytest.param(b"old 1\n" + HASH[:-4] + b"\n\n" + NOTE, id="short-hash"),
        pytest.param(b"old 1\n" + HASH.replace(b"=", b"") + b"\n\n" + NOTE, id="unpadded"),
        pytest.param(b"old 1\n" + b"!" * 44 + b"\n\n" + NOTE, id="not-base64"),
        pytest.param(b"old 1\n" + (HASH + b"\n") * 64 + b"\n" + NOTE, id="64-proof-lines"),
        pytest.param(b"old 0\n" + HASH + b"\n\n" + NOTE, id="proof-from-0"),
        pytest.param(b"old 6\n\n" + NOTE, id="old-above-new"),
        pytest.param(b"old 0\n\n" + NOTE.split(b"\n\n")[0] + b"\n", id="unsigned"),
        pytest.param(b"old 0\n\n\xff\xfe\n5\n", id="origin-not-utf8"),
        pytest.param(
            b"old 0\n\n" + sign(f"{ORIGIN}\n05\n{HASH.decode()}\n", [LOG]).encode(),
            id="signed-but-bad-size",
        ),
    ],
)
def test_malformed_requests_are_400(body):
    response = make_witness().add_checkpoint(body)
    assert response.status == 400, response.body
    assert response.body.startswith(b"witness: ")


def test_encode_request_refuses_what_the_spec_forbids():
    with pytest.raises(InvalidInput):
        encode_request(1, [b"\x00" * 32] * 64, NOTE)
    with pytest.raises(InvalidInput):
        encode_request(1, [b"\x00" * 31], NOTE)
    assert encode_request(0, [], NOTE) == b"old 0\n\n" + NOTE


def test_a_witness_key_must_be_a_cosignature_key():
    with pytest.raises(InvalidInput):
        Witness(LOG, {}, MemoryWitnessState())  # type: ignore[arg-type]


# --- atomicity -----------------------------------------------------------------------------


def test_concurrent_requests_from_the_same_old_size_advance_once():
    witness, log = seeded(5)
    log.grow(20)
    start = threading.Barrier(8)

    def submit(new: int):
        start.wait(timeout=10)
        return new, add(witness, 5, log.proof(5, new), log.checkpoint(new))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(6, 14)))
    winners = [new for new, r in results if r.status == 200]
    assert len(winners) == 1
    for _, r in results:
        if r.status != 200:
            assert_conflict(r, winners[0])


class RacingState:
    """A state whose first read waits for the other writer's, so both check from the same old
    size before either writes: what two witness processes on one state can do."""

    def __init__(self, inner: WitnessState, barrier: threading.Barrier) -> None:
        self.inner, self.barrier, self.first = inner, barrier, True

    def latest(self, origin: str) -> LogState | None:
        record = self.inner.latest(origin)
        if self.first:
            self.first = False
            self.barrier.wait(timeout=10)
        return record

    def advance(self, origin: str, expected: LogState | None, new: LogState) -> bool:
        return self.inner.advance(origin, expected, new)


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_two_witnesses_on_one_state_cannot_roll_it_back(kind, tmp_path):
    shared = MemoryWitnessState()
    stores = [
        shared if kind == "memory" else FileWitnessState(tmp_path),
        shared if kind == "memory" else FileWitnessState(tmp_path),
    ]
    log = Log(5)
    assert add(make_witness(stores[0]), 0, [], log.checkpoint()).status == 200
    log.grow(10)
    barrier = threading.Barrier(2)
    a, b = (make_witness(RacingState(s, barrier)) for s in stores)
    with ThreadPoolExecutor(2) as pool:
        ra = pool.submit(add, a, 5, log.proof(5, 8), log.checkpoint(8))
        rb = pool.submit(add, b, 5, log.proof(5, 15), log.checkpoint(15))
        statuses = sorted([ra.result().status, rb.result().status])
    assert statuses == [200, 409]
    final = stores[0].latest(ORIGIN)
    winner = 8 if ra.result().status == 200 else 15
    assert final is not None and final.size == winner


# --- the file state ------------------------------------------------------------------------


def test_file_state_survives_a_restart(tmp_path):
    log = Log(5)
    note = log.checkpoint()
    assert add(make_witness(FileWitnessState(tmp_path)), 0, [], note).status == 200
    restarted = make_witness(FileWitnessState(tmp_path))
    assert_conflict(add(restarted, 0, [], note), 5)
    record = FileWitnessState(tmp_path).latest(ORIGIN)
    assert record == LogState(5, log.tree.root(), note)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len([f for f in files if f.endswith(".json")]) == 1
    assert not [f for f in files if f.startswith(".tmp-")]
    stored = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert (stored["origin"], stored["size"]) == (ORIGIN, 5)


def test_a_corrupt_state_is_an_error_never_a_fresh_start(tmp_path):
    log = Log(5)
    state = FileWitnessState(tmp_path)
    assert add(make_witness(state), 0, [], log.checkpoint()).status == 200
    path = next(tmp_path.glob("*.json"))
    for corrupt in (
        b"",
        b"{",
        b'{"origin": "x"}',
        path.read_bytes().replace(b'"size": 5', b'"size": "5"'),
    ):
        path.write_bytes(corrupt)
        with pytest.raises(WitnessStateError):
            add(make_witness(state), 0, [], log.checkpoint())


def test_file_state_compare_and_swap(tmp_path):
    state = FileWitnessState(tmp_path)
    one = LogState(1, b"\x01" * 32, b"note one\n")
    two = LogState(2, b"\x02" * 32, b"note two\n")
    assert state.advance(ORIGIN, None, one)
    assert not state.advance(ORIGIN, None, two)
    assert not state.advance(ORIGIN, LogState(1, b"\x09" * 32, b""), two)
    assert state.advance(ORIGIN, one, two)
    assert state.latest(ORIGIN) == two
    assert state.latest("example.com/never-seen") is None


def test_witness_state_file_that_is_huge_is_refused_unread(tmp_path):
    state = FileWitnessState(tmp_path)
    witness = make_witness(state)
    note = Log().grow(3).checkpoint()
    assert add(witness, 0, [], note).status == 200
    (stored,) = tmp_path.glob("*.json")
    stored.write_bytes(b" " * (1 << 20))
    with pytest.raises(WitnessStateError, match="over the limit of 65,536"):
        state.latest(ORIGIN)
