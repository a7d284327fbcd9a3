"""The log monitor: re-verify everything a transparency log serves, remember what was verified.

Why: a log is only as honest as the people who check it. A client checks one entry; a monitor
checks the whole log, every run, against the last checkpoint it verified: the tree never goes
backwards, never forks (split view), only ever grows by appending (consistency proof), its tiles
hash to the signed root, and every entry hashes to its leaf. Whatever is found wrong is a typed
error that carries the evidence (both signed checkpoints, the proof), because evidence is what a
monitor is for. The core follows python-tuf's shape: pure checks over bytes, all I/O behind a
bounded `clearroom.tlog.client.Fetcher`, state saved only after everything verified.

Example::

    monitor = Monitor(DirectoryFetcher("log/"), parse_verifier_key(vkey),
                      state=FileMonitorState("monitor.json"))
    report = monitor.run()  # raises a TlogError subclass on any problem
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from clearroom.tlog.checkpoint import Checkpoint, Cosignature, open_checkpoint
from clearroom.tlog.client import (
    Fetcher,
    FetchLimits,
    HttpFetcher,
    TileClient,
    TileNodeReader,
    fetch_ahead,
)
from clearroom.tlog.errors import (
    BadCosignature,
    EntryMismatch,
    Inconsistency,
    InvalidInput,
    InvalidMonitorState,
    InvalidProof,
    InvalidSignature,
    NotEnoughCosignatures,
    RollbackDetected,
    RootMismatch,
    SplitView,
    TlogError,
)
from clearroom.tlog.hashing import EMPTY_ROOT, HASH_SIZE, node_hash
from clearroom.tlog.layout import TILE_WIDTH, TileRef, right_edge, tile_for, tiles_at_level
from clearroom.tlog.merkle import consistency_proof, verify_consistency
from clearroom.tlog.monitor_state import (
    FileMonitorState,
    MemoryMonitorState,
    MonitorState,
    VerifiedCheckpoint,
)
from clearroom.tlog.note import NoteVerifier, open_note

__all__ = [
    "CosignerStatus",
    "FileMonitorState",
    "MemoryMonitorState",
    "Monitor",
    "MonitorOptions",
    "MonitorState",
    "Report",
    "VerifiedCheckpoint",
]

_FULL_TILE = TILE_WIDTH * HASH_SIZE


# --- Options and report -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorOptions:
    """``fetch_workers`` threads fetch tiles and bundles ahead of the (single-threaded) hashing,
    in order; None picks 8 for an `HttpFetcher` (latency-bound) and 1 otherwise (measured: on a
    local directory, threads only fight the hashing for the GIL). ``limits`` caps object sizes."""

    fetch_workers: int | None = None
    limits: FetchLimits = field(default_factory=FetchLimits)
    min_cosignatures: int = 0
    """Fewer verified cosignatures by the configured cosigners fail the run
    (:class:`NotEnoughCosignatures`) instead of only warning."""

    def __post_init__(self) -> None:
        if self.fetch_workers is not None and not 1 <= self.fetch_workers <= 64:
            raise InvalidInput(f"tlog: fetch_workers must be 1..64, not {self.fetch_workers}")
        if self.min_cosignatures < 0:
            raise InvalidInput("tlog: min_cosignatures must not be negative")


@dataclass(frozen=True)
class CosignerStatus:
    """What one configured cosigner (witness) did: ``verified`` (with its cosignature/v1
    time, if any), ``missing`` (no signature line), or ``other key`` (a line under its name by
    a key that is not configured: rotated or misconfigured)."""

    name: str
    key_id: int
    status: str
    timestamp: int | None = None


@dataclass(frozen=True)
class Report:
    """What one run verified. ``entries_checked`` counts entries re-hashed from bundles."""

    origin: str
    previous_size: int | None
    size: int
    root: bytes
    entries_checked: int
    tiles_fetched: int
    bundles_fetched: int
    bytes_fetched: int
    seconds: float
    consistency_proof: tuple[bytes, ...] = ()
    cosigners: tuple[CosignerStatus, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def entries_per_second(self) -> float:
        return self.entries_checked / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the root in base64 (as in the checkpoint), proof hashes in hex."""
        doc: dict[str, object] = {"ok": True}
        doc.update((f.name, getattr(self, f.name)) for f in fields(self))
        doc.update(
            root=base64.b64encode(self.root).decode(),
            seconds=round(self.seconds, 6),
            consistency_proof=[h.hex() for h in self.consistency_proof],
            cosigners=[
                {"key": f"{c.name}+{c.key_id:08x}", "status": c.status, "timestamp": c.timestamp}
                for c in self.cosigners
            ],
            warnings=list(self.warnings),
        )
        return doc


# --- Hashing in tight loops ---------------------------------------------------------------------


_NODE_PREFIX = hashlib.sha256(b"\x01")


def _perfect_root(hashes: bytes) -> bytes:
    """Root of a perfect subtree over concatenated hashes (a power of two of them): sibling
    pairs are adjacent, so each node hashes one 64-byte slice after the 0x01 prefix."""
    prefix = _NODE_PREFIX
    while len(hashes) > HASH_SIZE:
        view = memoryview(hashes)
        out: list[bytes] = []
        append = out.append
        for i in range(0, len(hashes), 2 * HASH_SIZE):
            node = prefix.copy()
            node.update(view[i : i + 2 * HASH_SIZE])
            append(node.digest())
        hashes = b"".join(out)
    return hashes


def _first_difference(a: bytes, b: bytes) -> int:
    """Index of the first 32-byte hash where ``a`` and ``b`` differ."""
    for i in range(0, min(len(a), len(b)), HASH_SIZE):
        if a[i : i + HASH_SIZE] != b[i : i + HASH_SIZE]:
            return i // HASH_SIZE
    return min(len(a), len(b)) // HASH_SIZE


# --- The monitor --------------------------------------------------------------------------------


class Monitor:
    """Verifies a log against the checkpoint it last verified, then remembers the new one.

    ``origin`` defaults to the log key's name. ``cosigners`` are witnesses' verifier keys:
    a missing cosignature is a warning, one that does not verify an error (`BadCosignature`)."""

    def __init__(
        self,
        fetcher: Fetcher,
        log_verifier: NoteVerifier,
        *,
        origin: str | None = None,
        cosigners: Sequence[NoteVerifier] = (),
        state: MonitorState | None = None,
        options: MonitorOptions | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._log = log_verifier
        self._origin = log_verifier.name if origin is None else origin
        self._cosigners = tuple(cosigners)
        self.state: MonitorState = MemoryMonitorState() if state is None else state
        self._options = options or MonitorOptions()
        if self._options.min_cosignatures > len(self._cosigners):
            raise InvalidInput(
                f"tlog: {self._options.min_cosignatures} cosignatures required but only"
                f" {len(self._cosigners)} cosigner keys given"
            )
        workers = self._options.fetch_workers
        self._workers = workers or (8 if isinstance(fetcher, HttpFetcher) else 1)

    def run(self) -> Report:
        started = time.perf_counter()
        client = TileClient(self._fetcher, self._options.limits)
        previous = self._previous()

        # Step 1: fetch the checkpoint and open it with the log's key (origin checked), then
        # the configured cosigners' signatures.
        note = client.checkpoint()
        checkpoint, cosigners, warnings = self._open(note)

        # Step 2: compare with the last verified checkpoint: never smaller, the same root at
        # the same size, and a larger tree must extend the old one (a consistency proof built
        # from the log's tiles). A failing proof is raised after steps 3-4 have shown whether
        # the tiles themselves are sound: bad tiles are a data error, not proof of a fork.
        proof: list[bytes] = []
        broken: InvalidProof | None = None
        if previous is not None:
            if checkpoint.size < previous.size:
                raise RollbackDetected(previous.note, note, previous.size, checkpoint.size)
            if checkpoint.size == previous.size and checkpoint.root_hash != previous.root:
                raise SplitView(
                    previous.note,
                    note,
                    reason=f"size {previous.size} has roots {previous.root.hex()} and "
                    f"{checkpoint.root_hash.hex()}",
                )
            if 0 < previous.size < checkpoint.size:
                reader = TileNodeReader(client, checkpoint.size)
                proof = consistency_proof(reader, previous.size, checkpoint.size)
                try:
                    verify_consistency(
                        previous.size,
                        checkpoint.size,
                        proof,
                        previous.root,
                        checkpoint.root_hash,
                    )
                except InvalidProof as exc:
                    broken = exc

        # Steps 3 and 4: re-derive the root from every level-0 tile (and check the stored
        # tiles above them), and re-hash every entry from the last verified size on.
        start = 0 if previous is None else previous.size
        checked = self._audit(client, checkpoint, start)
        if broken is not None:
            assert previous is not None
            raise Inconsistency(previous.note, note, tuple(proof), reason=str(broken))

        # Step 5: only now is the checkpoint the last verified one.
        self.state.save(VerifiedCheckpoint(note, checkpoint.size, checkpoint.root_hash))
        return Report(
            origin=checkpoint.origin,
            previous_size=None if previous is None else previous.size,
            size=checkpoint.size,
            root=checkpoint.root_hash,
            entries_checked=checked,
            tiles_fetched=client.stats.tiles,
            bundles_fetched=client.stats.bundles,
            bytes_fetched=client.stats.bytes_read,
            seconds=time.perf_counter() - started,
            consistency_proof=tuple(proof),
            cosigners=cosigners,
            warnings=warnings,
        )

    def _previous(self) -> VerifiedCheckpoint | None:
        """The saved state, re-opened with the log key: it must be this log's and match."""
        saved = self.state.load()
        if saved is None:
            return None
        try:
            checkpoint, _ = open_checkpoint(saved.note, self._log, origin=self._origin)
        except TlogError as exc:
            raise InvalidMonitorState(self.state.location, str(exc)) from exc
        if (checkpoint.size, checkpoint.root_hash) != (saved.size, saved.root):
            raise InvalidMonitorState(self.state.location, "size or root differs from its note")
        return saved

    def _open(self, note: bytes) -> tuple[Checkpoint, tuple[CosignerStatus, ...], tuple[str, ...]]:
        try:
            checkpoint, cosignatures = open_checkpoint(
                note, self._log, origin=self._origin, cosigners=self._cosigners
            )
        except InvalidSignature as exc:
            if (exc.name, exc.key_id) != (self._log.name, self._log.key_id) and any(
                (c.name, c.key_id) == (exc.name, exc.key_id) for c in self._cosigners
            ):
                raise BadCosignature(note, exc.name, exc.key_id) from exc
            raise
        if not self._cosigners:
            return checkpoint, (), ()
        verified: dict[tuple[str, int], Cosignature] = {(c.name, c.key_id): c for c in cosignatures}
        names = {s.name for s in open_note(note, [self._log]).unverified}
        statuses: list[CosignerStatus] = []
        warnings: list[str] = []
        for cosigner in self._cosigners:
            found = verified.get((cosigner.name, cosigner.key_id))
            key = f"{cosigner.name}+{cosigner.key_id:08x}"
            if found is not None:
                statuses.append(
                    CosignerStatus(cosigner.name, cosigner.key_id, "verified", found.timestamp)
                )
            elif cosigner.name in names:
                statuses.append(CosignerStatus(cosigner.name, cosigner.key_id, "other key"))
                warnings.append(f"tlog: cosigner {key} signed with a key that is not configured")
            else:
                statuses.append(CosignerStatus(cosigner.name, cosigner.key_id, "missing"))
                warnings.append(f"tlog: cosigner {key} did not cosign this checkpoint")
        if len(verified) < self._options.min_cosignatures:
            raise NotEnoughCosignatures(len(verified), self._options.min_cosignatures, {})
        return checkpoint, tuple(statuses), tuple(warnings)

    def _audit(self, client: TileClient, checkpoint: Checkpoint, start: int) -> int:
        """Steps 3 and 4 in one ordered pass over the level-0 tiles; returns entries re-hashed.

        Step 3 hashes each full level-0 tile to its root and carries the roots up, level by
        level; every stored tile above level 0 is compared with the one computed, and the root
        with the checkpoint's. Step 4 re-hashes the entries of each bundle from ``start`` on and
        compares them with the tile. A wrong root is reported first (naming the tile that
        disagrees with its bundle, when one does), then a wrong upper tile, then a bundle."""
        size = checkpoint.size

        def fetch(ref: TileRef) -> tuple[TileRef, bytes, tuple[bytes, str] | None]:
            wanted = ref.index * TILE_WIDTH + ref.width > start
            bundle = client.leaf_hashes(TileRef(None, ref.index, ref.width)) if wanted else None
            return ref, client.tile(ref), bundle

        pending: list[bytearray] = [bytearray()]  # per level: hashes not yet in a full tile
        completed: list[int] = [0]  # per level: full tiles computed so far
        upper: RootMismatch | None = None
        entry: EntryMismatch | None = None
        checked = 0
        for ref, tile, bundle in fetch_ahead(tiles_at_level(size, 0), fetch, self._workers):
            if bundle is not None:
                hashes, key = bundle
                checked += ref.width
                if hashes != tile and entry is None:
                    i = _first_difference(tile, hashes)
                    where = slice(i * HASH_SIZE, (i + 1) * HASH_SIZE)
                    entry = EntryMismatch(
                        key, ref.index * TILE_WIDTH + i, tile[where], hashes[where]
                    )
            if ref.is_partial:
                pending[0][:] = tile
                continue
            value, level = _perfect_root(tile), 1
            while True:  # carry the tile's root up, as a binary counter carries
                if level == len(pending):
                    pending.append(bytearray())
                    completed.append(0)
                row = pending[level]
                row += value
                if len(row) < _FULL_TILE:
                    break
                computed = bytes(row)
                stored = client.tile(TileRef(level, completed[level]))
                if stored != computed and upper is None:
                    upper = self._tile_mismatch(
                        size, TileRef(level, completed[level]), computed, stored
                    )
                completed[level] += 1
                value = _perfect_root(computed)
                row.clear()
                level += 1
        for edge in right_edge(size):
            assert edge.level is not None
            if edge.level and upper is None:
                computed = bytes(pending[edge.level])
                stored = client.tile(edge)
                if stored != computed:
                    upper = self._tile_mismatch(size, edge, computed, stored)
        roots: list[bytes] = []
        for row in reversed(pending):  # the right edge's perfect subtrees, left to right
            position = 0
            for bit in reversed(range(8)):
                if len(row) // HASH_SIZE >> bit & 1:
                    roots.append(
                        _perfect_root(bytes(row[position : position + (HASH_SIZE << bit)]))
                    )
                    position += HASH_SIZE << bit
        root = roots.pop() if roots else EMPTY_ROOT
        while roots:
            root = node_hash(roots.pop(), root)
        if root != checkpoint.root_hash:
            if entry is not None:  # the tile disagrees with its own entries: blame the tile
                key = tile_for(size, 0, entry.index // TILE_WIDTH).key
                raise RootMismatch(size, entry.actual, entry.expected, key=key)
            raise RootMismatch(size, checkpoint.root_hash, root)
        if upper is not None:
            raise upper
        if entry is not None:
            raise entry
        return checked

    @staticmethod
    def _tile_mismatch(size: int, ref: TileRef, computed: bytes, stored: bytes) -> RootMismatch:
        i = _first_difference(computed, stored)
        where = slice(i * HASH_SIZE, (i + 1) * HASH_SIZE)
        return RootMismatch(size, computed[where], stored[where], key=ref.key)
