"""The log's single writer: entries become durable with their index (group-committed to SQLite),
then a separate loop integrates them into tiles and signs a new checkpoint — Tessera's split of
sequencing from integration.

Guarantees:
- ``add`` returns an index only after the entry is durable (WAL, ``synchronous=FULL``).
- One writer per log: an exclusive ``flock`` on ``<dir>/sequencer.lock``; a second process
  gets :class:`LogLocked` and the log keeps one history.
- Crash-safe at any instant: tiles are write-once and re-integration is idempotent; the
  checkpoint for a size is deterministic (Ed25519 signatures are), so a size never has two
  checkpoints; at start the integrated size is taken from the checkpoint the log last published
  when that is ahead of the database, so the published checkpoint never goes backwards.
- Witnessing: ``cosign`` (optional) turns each signed checkpoint into the note that is
  published — the log's signature plus witnesses' cosignatures — before anyone sees it.
- Back-pressure: when integration falls behind by more than ``max_backlog`` entries, ``add``
  raises :class:`Pushback` (the API answers 503 with Retry-After) instead of queueing forever.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from clearroom.blobs import ObjectNotFound, ObjectStore
from clearroom.tlog.bundles import check_entries
from clearroom.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from clearroom.tlog.errors import InvalidInput, TlogError
from clearroom.tlog.layout import CHECKPOINT_KEY
from clearroom.tlog.merkle import inclusion_proof
from clearroom.tlog.note import LogSigner
from clearroom.tlog.receipt import Receipt
from clearroom.tlog.tiles import TileLog, TileReader


class LogLocked(TlogError):
    """Another process is already the writer of this log."""


class Pushback(TlogError):
    """Integration is behind; try again after ``retry_after`` seconds."""

    def __init__(self, backlog: int, retry_after: int = 1) -> None:
        super().__init__(f"tlog: {backlog} entries are waiting to be integrated; retry shortly")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SequencerOptions:
    batch_size: int = 4096
    """At most this many entries go into one integration (one new checkpoint)."""
    batch_wait: float = 0.25
    """Seconds the integrator waits for more entries before integrating a small batch."""
    max_backlog: int = 100_000
    """Sequenced-but-not-integrated entries beyond which ``add`` pushes back."""

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.batch_wait < 0 or self.max_backlog < 1:
            raise ValueError("tlog: batch_size and max_backlog must be ≥ 1, batch_wait ≥ 0")


@dataclass
class _Pending:
    entries: Sequence[bytes]
    done: Future[int] = field(default_factory=Future)


class Sequencer:
    """Owns one log: ``directory`` holds the lock and the sequence database; ``objects`` receives
    the tiles, bundles and checkpoint that are served to the world."""

    def __init__(
        self,
        directory: Path,
        objects: ObjectStore,
        signer: LogSigner,
        *,
        options: SequencerOptions = SequencerOptions(),
        on_checkpoint: Callable[[int, bytes], None] | None = None,
        cosign: Callable[[bytes], bytes] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(directory / "sequencer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise LogLocked(f"tlog: another process is writing the log in {directory}") from None
        self._objects = objects
        self._signer = signer
        self._origin = signer.name
        self._options = options
        self._on_checkpoint = on_checkpoint
        self._cosign = cosign
        self._db_path = directory / "sequence.sqlite3"
        self._db = _connect(self._db_path)
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        """Progress: entries sequenced or integrated, a failure, closing."""
        self._submitted = threading.Condition(lock)
        """New work for the commit loop (one waiter: notified alone, not with everyone)."""
        self._queue: list[_Pending] = []
        self._queued = 0
        """Entries in ``_queue``."""
        self._closing = False
        self._error: BaseException | None = None
        self._sequenced: int = self._db.execute(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries"
        ).fetchone()[0]
        self._integrated = self._recover_integrated()
        self._checkpoint = self._read_checkpoint()
        self._tiles = TileLog(objects)
        self._threads = [
            threading.Thread(target=self._commit_loop, name="tlog-sequence", daemon=True),
            threading.Thread(target=self._integrate_loop, name="tlog-integrate", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # --- submitting -----------------------------------------------------------------------

    def add(self, entry: bytes) -> int:
        """Sequence one entry; returns its index once it is durable."""
        return self.add_many([entry])[0]

    def add_many(self, entries: Sequence[bytes]) -> list[int]:
        """Sequence entries (in order); returns their indexes once all are durable."""
        check_entries(entries)
        pending = _Pending(list(entries))
        with self._cond:
            self._raise_if_failed()
            backlog = self._sequenced - self._integrated + self._queued
            if backlog >= self._options.max_backlog:
                raise Pushback(backlog)
            self._queue.append(pending)
            self._queued += len(pending.entries)
            self._submitted.notify()
        first = pending.done.result()
        return list(range(first, first + len(pending.entries)))

    # --- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Entries covered by the latest checkpoint."""
        return self._integrated

    @property
    def sequenced(self) -> int:
        """Entries that are durable (integrated or not)."""
        with self._cond:
            return self._sequenced

    @property
    def checkpoint(self) -> bytes | None:
        return self._checkpoint

    def entries(self, start: int, end: int) -> list[bytes]:
        """The durable entries ``start`` .. ``end - 1``, integrated or not (a caller that lost
        the answer of ``add_many`` in a crash finds out here what was sequenced)."""
        if not 0 <= start <= end <= self.sequenced:
            raise InvalidInput(f"tlog: entries {start}..{end} are not all sequenced")
        db = _connect(self._db_path)  # the commit loop owns the main connection
        try:
            rows = db.execute(
                "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            ).fetchall()
        finally:
            db.close()
        return [row[0] for row in rows]

    def wait_for(self, index: int, timeout: float | None = None) -> bytes:
        """Block until a checkpoint covers ``index``; returns that checkpoint note."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if index >= self._sequenced:
                raise InvalidInput(
                    f"tlog: index {index} was never sequenced (size {self._sequenced})"
                )
            while self._integrated <= index:
                self._raise_if_failed()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"tlog: entry {index} not yet integrated")
                self._cond.wait(remaining)
            assert self._checkpoint is not None
            return self._checkpoint

    def receipt(self, index: int, timeout: float | None = None) -> Receipt:
        """The C2SP tlog-proof receipt of entry ``index`` against the current checkpoint."""
        note = self.wait_for(index, timeout)
        size = self._integrated
        proof = inclusion_proof(TileReader(self._objects, size), size, index)
        return Receipt(index, tuple(proof), note)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            self._submitted.notify_all()
        for thread in self._threads:
            thread.join()
        self._db.close()
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)

    def __enter__(self) -> Sequencer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the two loops ----------------------------------------------------------------------

    def _commit_loop(self) -> None:
        """Group commit: everything queued meanwhile goes into one durable transaction."""
        batch: list[_Pending] = []
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._submitted.wait()
                    if not self._queue:
                        return
                    batch, self._queue, self._queued = self._queue, [], 0
                next_index = self._sequenced
                rows = []
                for pending in batch:
                    rows += [(next_index + i, e) for i, e in enumerate(pending.entries)]
                    next_index += len(pending.entries)
                with self._db:
                    self._db.executemany("INSERT INTO entries (idx, data) VALUES (?, ?)", rows)
                first = self._sequenced
                with self._cond:
                    self._sequenced = next_index
                    self._cond.notify_all()
                for pending in batch:
                    pending.done.set_result(first)
                    first += len(pending.entries)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, then re-raised
            self._fail(exc, batch)

    def _integrate_loop(self) -> None:
        db = _connect(self._db_path)
        try:
            while True:
                with self._cond:
                    while self._sequenced == self._integrated and not self._closing:
                        self._cond.wait()
                    if self._sequenced == self._integrated:
                        return
                    # Let a batch gather: until it is full, the wait is over, or we close.
                    gather_until = time.monotonic() + self._options.batch_wait
                    while (
                        self._sequenced - self._integrated < self._options.batch_size
                        and not self._closing
                        and (left := gather_until - time.monotonic()) > 0
                    ):
                        self._cond.wait(left)
                    start = self._integrated
                    end = min(self._sequenced, start + self._options.batch_size)
                entries = [
                    row[0]
                    for row in db.execute(
                        "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                        (start, end),
                    )
                ]
                size, root = self._tiles.append(start, entries)
                note = sign_checkpoint(Checkpoint(self._origin, size, root), self._signer)
                if self._cosign is not None:
                    note = self._cosign(note)
                self._objects.put(CHECKPOINT_KEY, note)
                with db:
                    db.execute(
                        "INSERT OR REPLACE INTO state (key, value) VALUES ('integrated', ?)",
                        (size,),
                    )
                with self._cond:
                    self._integrated, self._checkpoint = size, note
                    self._cond.notify_all()
                if self._on_checkpoint is not None:
                    self._on_checkpoint(start, note)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc, [])
        finally:
            db.close()

    def _fail(self, exc: BaseException, batch: list[_Pending]) -> None:
        with self._cond:
            self._error = exc
            waiting, self._queue, self._queued = [*batch, *self._queue], [], 0
            self._cond.notify_all()
        for pending in waiting:
            if not pending.done.done():
                pending.done.set_exception(TlogError(f"tlog: the log stopped: {exc}"))

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise TlogError(f"tlog: the log stopped after an error: {self._error}")

    # --- start-up ---------------------------------------------------------------------------

    def _read_checkpoint(self) -> bytes | None:
        try:
            return self._objects.get(CHECKPOINT_KEY)
        except ObjectNotFound:
            return None

    def _recover_integrated(self) -> int:
        """The size of the published checkpoint, if it is ahead of the database (a crash
        between publishing it and recording it); the database's value otherwise."""
        row = self._db.execute("SELECT value FROM state WHERE key = 'integrated'").fetchone()
        recorded = int(row[0]) if row else 0
        note = self._read_checkpoint()
        if note is None:
            return recorded
        published, _ = open_checkpoint(note, self._signer.verifier(), origin=self._origin)
        if published.size > self._sequenced:
            raise TlogError(
                f"tlog: the published checkpoint covers {published.size} entries but only"
                f" {self._sequenced} are sequenced here; this is not this log's database"
            )
        if published.size > recorded:
            if TileReader(self._objects, published.size).root() != published.root_hash:
                raise TlogError("tlog: the published checkpoint does not match the stored tiles")
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES ('integrated', ?)",
                    (published.size,),
                )
            return published.size
        return recorded


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    db.isolation_level = "IMMEDIATE"
    return db
