"""The sequencer: durable indexes, one writer, receipts anyone can verify, back-pressure,
restart and recovery."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from clearroom.blobs import LocalObjectStore
from clearroom.tlog.bundles import read_entries
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.errors import EntryTooLarge, NotEnoughCosignatures
from clearroom.tlog.merkle import consistency_proof, verify_consistency
from clearroom.tlog.note import generate_key, parse_signer_key, parse_verifier_key
from clearroom.tlog.receipt import Receipt, verify_receipt
from clearroom.tlog.sequencer import LogLocked, Pushback, Sequencer, SequencerOptions
from clearroom.tlog.tiles import TileReader

FAST = SequencerOptions(batch_wait=0.01)


@pytest.fixture
def signer():
    return parse_signer_key(generate_key("clearroom.test/log")[0])


@pytest.fixture
def log(tmp_path, signer):
    with Sequencer(
        tmp_path / "seq", LocalObjectStore(tmp_path / "tiles"), signer, options=FAST
    ) as seq:
        yield seq


def test_indexes_are_sequential_and_receipts_verify_offline(log, signer):
    indexes = [log.add(f"fact {i}".encode()) for i in range(5)] + log.add_many([b"a", b"b"])
    assert indexes == list(range(7))
    text = log.receipt(3, timeout=10).to_text()
    checkpoint, _ = verify_receipt(Receipt.parse(text), b"fact 3", signer.verifier())
    assert checkpoint.size >= 4
    with pytest.raises(Exception, match=r"(?i)proof|root"):
        verify_receipt(Receipt.parse(text), b"fact 4", signer.verifier())


def test_the_published_log_is_the_tiles_and_the_checkpoint(log, signer, tmp_path):
    log.add_many([f"e{i}".encode() for i in range(600)])
    log.wait_for(599, timeout=10)
    objects = LocalObjectStore(tmp_path / "tiles")
    checkpoint, _ = open_checkpoint(objects.get("checkpoint"), signer.verifier())
    assert TileReader(objects, checkpoint.size).root() == checkpoint.root_hash
    assert list(read_entries(objects, checkpoint.size, 0, 3)) == [b"e0", b"e1", b"e2"]


def test_a_second_writer_is_refused(log, tmp_path, signer):
    with pytest.raises(LogLocked):
        Sequencer(tmp_path / "seq", LocalObjectStore(tmp_path / "tiles"), signer)


def test_entries_over_64_kib_are_refused(log):
    with pytest.raises(EntryTooLarge):
        log.add(b"x" * 65536)
    assert log.add(b"x" * 65535) == 0


def test_pushback_when_integration_falls_behind(tmp_path, signer):
    release = threading.Event()
    options = SequencerOptions(batch_size=1, batch_wait=0, max_backlog=5)
    seq = Sequencer(
        tmp_path / "seq",
        LocalObjectStore(tmp_path / "tiles"),
        signer,
        options=options,
        on_checkpoint=lambda old, note: release.wait(10),
    )
    try:
        seq.add(b"first")  # integration of it stalls in the callback
        seq.add_many([b"x"] * 5)
        with pytest.raises(Pushback) as caught:
            seq.add(b"one too many")
        assert caught.value.retry_after >= 1
    finally:
        release.set()
        seq.close()


def test_restart_continues_the_same_history(tmp_path, signer):
    objects = LocalObjectStore(tmp_path / "tiles")
    with Sequencer(tmp_path / "seq", objects, signer, options=FAST) as seq:
        seq.add_many([f"a{i}".encode() for i in range(300)])
        first = seq.wait_for(299, timeout=10)
    old, _ = open_checkpoint(first, signer.verifier())
    with Sequencer(tmp_path / "seq", objects, signer, options=FAST) as seq:
        assert seq.add(b"after restart") == 300
        new, _ = open_checkpoint(seq.wait_for(300, timeout=10), signer.verifier())
    proof = consistency_proof(TileReader(objects, new.size), old.size, new.size)
    verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)


def test_a_checkpoint_published_just_before_a_crash_is_never_taken_back(tmp_path, signer):
    objects = LocalObjectStore(tmp_path / "tiles")
    with Sequencer(tmp_path / "seq", objects, signer, options=FAST) as seq:
        seq.add_many([f"a{i}".encode() for i in range(50)])
        published = seq.wait_for(49, timeout=10)
    # the crash: the checkpoint was published, the database had not recorded it yet
    db = sqlite3.connect(tmp_path / "seq" / "sequence.sqlite3")
    with db:
        db.execute("UPDATE state SET value = 10 WHERE key = 'integrated'")
    db.close()
    with Sequencer(tmp_path / "seq", objects, signer, options=FAST) as seq:
        assert seq.size == 50
        assert seq.checkpoint == published


def test_durable_entries_can_be_read_back_by_index(log):
    log.add_many([b"a", b"b", b"c"])
    assert log.sequenced == 3
    assert log.entries(1, 3) == [b"b", b"c"]
    assert log.entries(3, 3) == []
    with pytest.raises(Exception, match="not all sequenced"):
        log.entries(2, 4)


def test_the_cosign_hook_decides_what_is_published(tmp_path, signer):
    seen = []

    def cosign(note: bytes) -> bytes:
        seen.append(note)
        return note + "— witness.test/w AAAAAAAA\n".encode()

    objects = LocalObjectStore(tmp_path / "tiles")
    with Sequencer(tmp_path / "seq", objects, signer, options=FAST, cosign=cosign) as seq:
        seq.add(b"x")
        published = seq.wait_for(0, timeout=10)
    assert seen and published == seen[-1] + "— witness.test/w AAAAAAAA\n".encode()
    assert objects.get("checkpoint") == published
    open_checkpoint(published, signer.verifier())  # a cosignature by an unknown key is ignored


def test_a_receipt_can_require_witness_cosignatures(log, signer):
    log.add(b"fact")
    receipt = log.receipt(0, timeout=10)
    _, witness_vkey = generate_key("witness.test/w1", cosignature=True)
    witness = parse_verifier_key(witness_vkey)
    verify_receipt(receipt, b"fact", signer.verifier(), cosigners=[witness])
    with pytest.raises(NotEnoughCosignatures, match="0 witness cosignature"):
        verify_receipt(receipt, b"fact", signer.verifier(), cosigners=[witness], min_cosignatures=1)
