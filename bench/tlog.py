"""Transparency-log throughput, each figure beside a baseline measured in the same run.

    .venv/bin/python bench/tlog.py [--entries 200000] [--record]

1. Durable appends through the sequencer (SQLite sequencing + local tiles, fsync'd), submitted
   by 16 threads in small batches and one at a time, until every entry is in a checkpoint.
   Goal ≥ 10,000 entries/s. Baseline: the same entries hashed with hashlib.
2. In-memory integration (merkle.MemoryTree) vs raw hashlib leaf hashing. Goal ≥ 200,000/s.
3. Inclusion and consistency proof generation (median of 1,000) at 1M and 10M entries, from
   memory and, at 1M, from tiles on disk. Goal ≤ 1 ms median at 1M.
4. Monitor re-verification of a whole log from a local directory. Goal ≥ 100,000 entries/s.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _report import record, table
from clearroom.blobs import LocalObjectStore
from clearroom.tlog.checkpoint import Checkpoint, sign_checkpoint
from clearroom.tlog.client import DirectoryFetcher
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import MemoryTree, consistency_proof, inclusion_proof
from clearroom.tlog.monitor import MemoryMonitorState, Monitor
from clearroom.tlog.note import generate_key, parse_signer_key
from clearroom.tlog.sequencer import Pushback, Sequencer, SequencerOptions
from clearroom.tlog.tiles import TileLog, TileReader


def entries(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(40, 400)) for _ in range(n)]


def hashlib_leaves(data: list[bytes]) -> float:
    started = time.perf_counter()
    for e in data:
        hashlib.sha256(b"\x00" + e).digest()
    return time.perf_counter() - started


def sequencer_appends(work: Path, data: list[bytes], per_call: int, threads: int = 16) -> float:
    signer = parse_signer_key(generate_key("bench.clearroom/log")[0])
    folder = work / f"seq-{per_call}"
    seq = Sequencer(
        folder / "db",
        LocalObjectStore(folder / "tiles"),
        signer,
        options=SequencerOptions(batch_wait=0.05, max_backlog=1_000_000),
    )
    chunks = [data[i : i + per_call] for i in range(0, len(data), per_call)]
    lock = threading.Lock()

    def submit() -> None:
        while True:
            with lock:
                if not chunks:
                    return
                chunk = chunks.pop()
            while True:
                try:
                    seq.add_many(chunk)
                    break
                except Pushback:
                    time.sleep(0.01)

    started = time.perf_counter()
    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seq.wait_for(len(data) - 1, timeout=600)
    elapsed = time.perf_counter() - started
    seq.close()
    shutil.rmtree(folder)
    return elapsed


def proof_times(reader: object, size: int, samples: int = 1000) -> tuple[float, float]:
    rng = random.Random(3)
    inc, con = [], []
    for _ in range(samples):
        index = rng.randrange(size)
        t = time.perf_counter()
        inclusion_proof(reader, size, index)  # type: ignore[arg-type]
        inc.append(time.perf_counter() - t)
        old = rng.randrange(1, size)
        t = time.perf_counter()
        consistency_proof(reader, old, size)  # type: ignore[arg-type]
        con.append(time.perf_counter() - t)
    return statistics.median(inc), statistics.median(con)


def monitor_rate(work: Path, data: list[bytes]) -> float:
    skey, _ = generate_key("bench.clearroom/monitor")
    signer = parse_signer_key(skey)
    store = LocalObjectStore(work / "monitor")
    log, size = TileLog(store), 0
    for i in range(0, len(data), 4096):
        size, root = log.append(size, data[i : i + 4096])
    store.put("checkpoint", sign_checkpoint(Checkpoint(signer.name, size, root), signer))
    monitor = Monitor(
        DirectoryFetcher(work / "monitor"),
        signer.verifier(),
        origin=signer.name,
        state=MemoryMonitorState(),
    )
    started = time.perf_counter()
    monitor.run()
    return len(data) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--big", type=int, default=10_000_000, help="size of the large proof tree")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clearroom-tlog-bench-"))
    rows: list[tuple[str, str, str]] = []
    try:
        data = entries(args.entries)
        base = hashlib_leaves(data)
        rate = lambda seconds: len(data) / seconds  # noqa: E731
        rows.append(("hashlib leaf hashing (baseline)", f"{rate(base):,.0f} entries/s", ""))
        for per_call, label in ((100, "batches of 100"), (1, "one entry per call")):
            n = len(data) if per_call > 1 else min(len(data), 50_000)
            r = n / sequencer_appends(work, data[:n], per_call)
            goal = "≥ 10,000/s " + ("met" if r >= 10_000 else "MISSED")
            rows.append((f"durable appends, 16 threads, {label}", f"{r:,.0f} entries/s", goal))

        hashes = [leaf_hash(e) for e in data]
        tree = MemoryTree()
        started = time.perf_counter()
        tree.extend(hashes)
        r = len(hashes) / (time.perf_counter() - started)
        rows.append(
            (
                "in-memory integration (leaf hashes given)",
                f"{r:,.0f} leaves/s",
                "≥ 200,000/s " + ("met" if r >= 200_000 else "MISSED"),
            )
        )
        started = time.perf_counter()
        MemoryTree([leaf_hash(e) for e in data])
        r = len(data) / (time.perf_counter() - started)
        rows.append(
            (
                "in-memory integration incl. leaf hashing",
                f"{r:,.0f} leaves/s",
                f"{r * base / len(data):.2f} of hashlib's rate",
            )
        )

        for size in (1_000_000, args.big):
            big = MemoryTree(hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size))
            inc, con = proof_times(big, size)
            goal = (
                ("≤ 1 ms " + ("met" if max(inc, con) <= 1e-3 else "MISSED"))
                if size == 1_000_000
                else ""
            )
            rows.append(
                (
                    f"proofs from memory at {size:,}",
                    f"inclusion {inc * 1e6:.0f} µs, consistency {con * 1e6:.0f} µs",
                    goal,
                )
            )
            del big
        store = LocalObjectStore(work / "big-tiles")
        log, size = TileLog(store), 0
        leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(1_000_000)]
        for i in range(0, len(leaves), 65536):
            size, _ = log.integrate(size, leaves[i : i + 65536])
        inc, con = proof_times(TileReader(store, size), size)
        rows.append(
            (
                "proofs from tiles on disk at 1,000,000",
                f"inclusion {inc * 1e6:.0f} µs, consistency {con * 1e6:.0f} µs",
                "≤ 1 ms " + ("met" if max(inc, con) <= 1e-3 else "MISSED"),
            )
        )

        r2 = monitor_rate(work, data)
        rows.append(
            (
                "monitor re-verification (local directory)",
                f"{r2:,.0f} entries/s",
                "≥ 100,000/s " + ("met" if r2 >= 100_000 else "MISSED"),
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    markdown = table(rows)
    print(markdown)
    if args.record:
        command = f".venv/bin/python bench/tlog.py --entries {args.entries} --record"
        record("bench/tlog.py", markdown, command)


if __name__ == "__main__":
    main()
