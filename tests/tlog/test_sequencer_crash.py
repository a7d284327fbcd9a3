"""The crash test: a writer killed with SIGKILL again and again during a burst of appends loses
no acknowledged entry, never publishes two checkpoints for one size, and every checkpoint anyone
saw is consistent with the final tree."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from clearroom.blobs import LocalObjectStore, ObjectNotFound
from clearroom.tlog.bundles import read_entries
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.merkle import consistency_proof, verify_consistency
from clearroom.tlog.note import generate_key, parse_signer_key
from clearroom.tlog.sequencer import Sequencer, SequencerOptions
from clearroom.tlog.tiles import TileReader
from tests import processes

pytestmark = pytest.mark.slow
BATCH = 50
WRITER = """
import sys
import time
from pathlib import Path
from clearroom.blobs import LocalObjectStore
from clearroom.tlog.note import parse_signer_key
from clearroom.tlog.sequencer import Pushback, Sequencer, SequencerOptions
root, key, run, size = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seq = Sequencer(root / "seq", LocalObjectStore(root / "tiles"), parse_signer_key(key),
                options=SequencerOptions(batch_size=200, batch_wait=0.005))
batch = 0
while True:
    try:
        first = seq.add_many([f"r{run}-b{batch}-{k}".encode() for k in range(size)])[0]
    except Pushback:
        time.sleep(0.05)  # the log asked us to slow down
        continue
    print(first, run, batch, flush=True)
    batch += 1
"""


def test_repeated_kill_minus_9_loses_nothing_and_never_forks(tmp_path):
    signer_key, _ = generate_key("clearroom.test/crash")
    signer = parse_signer_key(signer_key)
    objects = LocalObjectStore(tmp_path / "tiles")
    acknowledged: dict[int, bytes] = {}
    seen: dict[int, set[bytes]] = {}
    rng = random.Random(4)
    for run in range(5):
        with processes.running(
            [sys.executable, "-c", WRITER, str(tmp_path), signer_key, str(run), str(BATCH)],
            stdout=subprocess.PIPE,
            text=True,
            ignoring_stop_signals=False,  # it is killed with SIGKILL: the crash under test
        ) as writer:
            assert writer.stdout is not None
            # The kill comes 0.5-1.5 s into the writing, however long the start took (on a
            # loaded machine a fixed time after the start could end before the first batch).
            started = writer.stdout.readline()
            deadline = time.monotonic() + rng.uniform(0.5, 1.5)
            while time.monotonic() < deadline:
                try:
                    note = objects.get("checkpoint")
                    size = open_checkpoint(note, signer.verifier())[0].size
                    seen.setdefault(size, set()).add(note)
                except ObjectNotFound:
                    pass
                time.sleep(0.02)
            os.kill(writer.pid, signal.SIGKILL)
            out = started + writer.communicate()[0]
        for line in out.splitlines():
            first, r, batch = (int(x) for x in line.split())
            for k in range(BATCH):
                acknowledged[first + k] = f"r{r}-b{batch}-{k}".encode()
    assert len(acknowledged) > 1000, "the writer should have acknowledged a burst of entries"

    with Sequencer(
        tmp_path / "seq", objects, signer, options=SequencerOptions(batch_wait=0.01)
    ) as seq:
        seq.add(b"after the crashes")
        final_note = seq.wait_for(max(acknowledged) + 1, timeout=60)
    final, _ = open_checkpoint(final_note, signer.verifier())
    stored = list(read_entries(objects, final.size, 0, final.size))
    assert all(stored[i] == entry for i, entry in acknowledged.items())
    assert all(len(notes) == 1 for notes in seen.values()), "two different checkpoints for one size"
    reader = TileReader(objects, final.size)
    for size, notes in seen.items():
        old, _ = open_checkpoint(next(iter(notes)), signer.verifier())
        if 0 < size < final.size:
            proof = consistency_proof(reader, size, final.size)
            verify_consistency(size, final.size, proof, old.root_hash, final.root_hash)
