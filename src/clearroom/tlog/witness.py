"""A C2SP tlog-witness: cosign a log's checkpoint only if it extends the last one cosigned.

Why: a witness turns "the log signed it" into "the log showed everyone the same history". It
keeps, per log, the latest checkpoint it cosigned and cosigns a newer one only with a valid
consistency proof from it, so a log that forks (split view) or rewinds (rollback) cannot collect
cosignatures for both branches. This module is the ``add-checkpoint`` protocol as a state machine
over request bytes (python-tuf's shape): no HTTP framework, the state behind a small interface
(:class:`WitnessState`), the checks in the spec's order, each failure its status code. The HTTP
server is ``clearroom.cli.witness``; the submitting side is :mod:`clearroom.tlog.witness_client`.

Check and update are one atomic step per origin (a lock in the witness, a compare-and-swap in
the state), or two concurrent requests from the same old size could roll the witness back.

Example::

    witness = Witness(cosigner, {"example.com/log": log_verifier}, MemoryWitnessState())
    response = witness.add_checkpoint(encode_request(0, [], signed_checkpoint))
    assert response.status == 200  # response.body: the cosignature line
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from clearroom.tlog.checkpoint import Checkpoint, open_checkpoint
from clearroom.tlog.errors import (
    InvalidCheckpoint,
    InvalidInput,
    InvalidNote,
    InvalidProof,
    InvalidSignature,
    UnverifiedNote,
    WitnessStateError,
)
from clearroom.tlog.hashing import EMPTY_ROOT, HASH_SIZE
from clearroom.tlog.merkle import verify_consistency
from clearroom.tlog.note import CosignatureSigner, NoteVerifier, signature_lines
from clearroom.untrusted import InputError, read_capped

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "Evidence",
    "FileWitnessState",
    "LogState",
    "MemoryWitnessState",
    "Response",
    "Witness",
    "WitnessState",
    "encode_request",
]

MAX_BODY_SIZE = 64 * 1024
"""Larger add-checkpoint bodies are refused (413) before any parsing."""
MAX_PROOF_LINES = 63
MAX_STATE_BYTES = 64 * 1024
"""A witness's state per log is a size and a root hash; a larger file is refused unread."""
"""The spec's limit on consistency proof lines."""
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Content type of a 409 answer whose body is the witness's tree size."""
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

_OLD = re.compile(rb"old (0|[1-9][0-9]{0,19})")
_MAX_SIZE = (1 << 64) - 1


@dataclass(frozen=True)
class Response:
    """What to answer over HTTP."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class LogState:
    """The latest checkpoint cosigned for one log: size, root, and the signed note as received."""

    size: int
    root_hash: bytes
    checkpoint: bytes


@dataclass(frozen=True)
class Evidence:
    """A checkpoint validly signed by the log that contradicts what the witness cosigned before
    (same size, other root; or a failing consistency proof): keep it, it may prove a fork."""

    origin: str
    reason: str
    request: bytes
    recorded: LogState | None


class WitnessState(Protocol):
    """Where a witness keeps each log's :class:`LogState`, durably."""

    def latest(self, origin: str) -> LogState | None:
        """The record for ``origin``, or None if the witness never cosigned for it."""
        ...

    def advance(self, origin: str, expected: LogState | None, new: LogState) -> bool:
        """Atomically replace the record with ``new`` if it still has ``expected``'s size and
        root (None: no record); False, changing nothing, if another writer got there first."""
        ...


def encode_request(old_size: int, proof: Sequence[bytes], checkpoint_note: bytes) -> bytes:
    """An add-checkpoint body: ``old <size>``, one base64 proof hash a line, a blank line, the
    signed checkpoint."""
    if not 0 <= old_size <= _MAX_SIZE:
        raise InvalidInput(f"tlog: old size {old_size} is outside 0..2^64-1")
    if len(proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in proof):
        raise InvalidInput(
            f"tlog: a witness takes at most {MAX_PROOF_LINES} proof hashes of {HASH_SIZE} bytes"
        )
    lines = [b"old %d" % old_size, *(base64.b64encode(h) for h in proof)]
    return b"\n".join(lines) + b"\n\n" + checkpoint_note


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _refuse(status: int, message: str) -> _Refusal:
    return _Refusal(Response(status, TEXT_CONTENT_TYPE, f"witness: {message}\n".encode()))


def _conflict(size: int) -> _Refusal:
    return _Refusal(Response(409, SIZE_CONTENT_TYPE, b"%d\n" % size))


def _b64hash(line: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == HASH_SIZE and base64.b64encode(raw) == line else None


def _parse_request(body: bytes) -> tuple[int, list[bytes], bytes]:
    """(old size, proof hashes, checkpoint note) of an add-checkpoint body, else 400."""
    end = body.find(b"\n\n")
    if end < 0:
        raise _refuse(400, "no blank line after the old size and proof lines")
    old_line, *proof_lines = body[:end].split(b"\n")
    match = _OLD.fullmatch(old_line)
    if match is None or int(match.group(1)) > _MAX_SIZE:
        raise _refuse(400, "the first line must be 'old <size>' (decimal, no leading zeros)")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _refuse(400, f"{len(proof_lines)} proof lines, over the limit of {MAX_PROOF_LINES}")
    proof = []
    for i, line in enumerate(proof_lines):
        h = _b64hash(line)
        if h is None:
            raise _refuse(400, f"proof line {i + 1} is not the base64 of a {HASH_SIZE}-byte hash")
        proof.append(h)
    old_size = int(match.group(1))
    if old_size == 0 and proof:
        raise _refuse(400, "a consistency proof from size 0 must be empty")
    return old_size, proof, body[end + 2 :]


class Witness:
    """Cosigns checkpoints of the ``logs`` it follows (origin → the log's verifier)."""

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Mapping[str, NoteVerifier],
        state: WitnessState,
        *,
        on_evidence: Callable[[Evidence], None] | None = None,
        max_body_size: int = MAX_BODY_SIZE,
    ) -> None:
        if not isinstance(signer, CosignatureSigner):
            raise InvalidInput("tlog: a witness signs with a cosignature/v1 key (type 0x04)")
        self._signer = signer
        self._logs = dict(logs)
        self._state = state
        self._locks = {origin: threading.Lock() for origin in self._logs}
        self._on_evidence = on_evidence
        self._max_body_size = max_body_size

    @property
    def verifier_key(self) -> str:
        """The witness's public cosignature/v1 key: ``name+hex8+base64``."""
        return self._signer.verifier().to_key()

    @property
    def logs(self) -> Mapping[str, NoteVerifier]:
        return MappingProxyType(self._logs)

    def add_checkpoint(self, body: bytes) -> Response:
        """Answer a C2SP tlog-witness add-checkpoint request. Bad input never raises; a failing
        state store does (:class:`WitnessStateError`, :class:`OSError`): answer 500."""
        try:
            return self._add_checkpoint(body)
        except _Refusal as refusal:
            return refusal.response

    def _add_checkpoint(self, body: bytes) -> Response:
        # 1. Limits, before any work proportional to the input.
        if len(body) > self._max_body_size:
            raise _refuse(413, f"request body over {self._max_body_size} bytes")
        # 2. Syntax: old size line, proof lines, blank line, checkpoint note (else 400).
        old_size, proof, note = _parse_request(body)
        # 3. The origin must be a log the witness follows (else 404).
        try:
            origin = note.split(b"\n", 1)[0].decode()
        except UnicodeDecodeError:
            raise _refuse(400, "the checkpoint's origin line is not UTF-8") from None
        verifier = self._logs.get(origin)
        if verifier is None:
            raise _refuse(404, f"unknown log {origin[:100]!r}")
        # 4. The log's key must have signed it (else 403); only then is the text parsed (400).
        try:
            checkpoint, _ = open_checkpoint(note, verifier, origin=origin)
        except (InvalidSignature, UnverifiedNote):
            raise _refuse(403, f"no valid signature by the key of log {origin!r}") from None
        except (InvalidNote, InvalidCheckpoint) as exc:
            raise _refuse(400, str(exc).removeprefix("tlog: ")) from None
        # 5. The old size may not exceed the new one (else 400).
        if old_size > checkpoint.size:
            raise _refuse(400, f"old size {old_size} exceeds checkpoint size {checkpoint.size}")
        with self._locks[origin]:
            recorded = self._state.latest(origin)
            self._check(origin, old_size, proof, checkpoint, recorded, body)
            text = note[: note.rfind(b"\n\n") + 1].decode()  # exactly the bytes the log signed
            lines = signature_lines(text, [self._signer])
            # 10. Persist before answering; the compare-and-swap catches other processes.
            new = LogState(checkpoint.size, checkpoint.root_hash, note)
            if not self._state.advance(origin, recorded, new):
                current = self._state.latest(origin)
                raise _conflict(0 if current is None else current.size)
        return Response(200, TEXT_CONTENT_TYPE, lines.encode())

    def _check(
        self,
        origin: str,
        old_size: int,
        proof: list[bytes],
        checkpoint: Checkpoint,
        recorded: LogState | None,
        body: bytes,
    ) -> None:
        known_size, known_root = (
            (0, EMPTY_ROOT) if recorded is None else (recorded.size, recorded.root_hash)
        )
        # 6. The old size must be the witness's (else 409 with its size).
        if old_size != known_size:
            raise _conflict(known_size)
        # 7. Same size: same root (else 409, a split view), and nothing to prove.
        if old_size == checkpoint.size:
            if checkpoint.root_hash != known_root:
                self._evidence(origin, "same size, different root", body, recorded)
                raise _refuse(409, f"a different root for size {old_size}: split view")
            if proof:
                raise _refuse(422, "a consistency proof between equal sizes must be empty")
            return
        # 8. From the empty tree anything is consistent (the first checkpoint of a log).
        if old_size == 0:
            return
        # 9. Otherwise the consistency proof must verify (else 422).
        try:
            verify_consistency(old_size, checkpoint.size, proof, known_root, checkpoint.root_hash)
        except InvalidProof as exc:
            self._evidence(origin, str(exc), body, recorded)
            raise _refuse(422, str(exc).removeprefix("tlog: ")) from None

    def _evidence(self, origin: str, reason: str, body: bytes, recorded: LogState | None) -> None:
        if self._on_evidence is not None:
            self._on_evidence(Evidence(origin, reason, body, recorded))


# --- state ---------------------------------------------------------------------------------


def _same_tree(a: LogState | None, b: LogState | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.size, a.root_hash) == (b.size, b.root_hash)


class MemoryWitnessState:
    """In-memory :class:`WitnessState`, for tests: a restart forgets every log."""

    def __init__(self) -> None:
        self._records: dict[str, LogState] = {}
        self._lock = threading.Lock()

    def latest(self, origin: str) -> LogState | None:
        with self._lock:
            return self._records.get(origin)

    def advance(self, origin: str, expected: LogState | None, new: LogState) -> bool:
        with self._lock:
            if not _same_tree(self._records.get(origin), expected):
                return False
            self._records[origin] = new
            return True


class FileWitnessState:
    """:class:`WitnessState` in a directory: one JSON file per origin (named by the origin's
    SHA-256), replaced atomically (temp file, fsync, rename, fsync of the directory). Updates
    are serialised by a thread lock and an ``flock`` on ``.lock``, so two processes sharing the
    directory cannot both advance from the same size. Losing the directory loses the witness's
    memory: retire its key rather than start it again on an empty one."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self.directory / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".json")

    def latest(self, origin: str) -> LogState | None:
        path = self._path(origin)
        if not path.exists():
            return None
        try:
            raw = read_capped(path, MAX_STATE_BYTES, what="tlog: witness state")
        except InputError as exc:
            raise WitnessStateError(f"tlog: cannot read witness state {path}: {exc}") from exc
        try:
            record = json.loads(raw)
            size, root_b64 = record["size"], record["root_hash"]
            root = base64.b64decode(root_b64, validate=True)
            if record["origin"] != origin or type(size) is not int or not 0 <= size <= _MAX_SIZE:
                raise ValueError("wrong origin or size")
            if len(root) != HASH_SIZE:
                raise ValueError("root hash is not 32 bytes")
            return LogState(size, root, record["checkpoint"].encode())
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise WitnessStateError(
                f"tlog: witness state {path} for log {origin!r} is corrupt ({exc}); restore it "
                "from a backup, never delete it (the witness would trust the log anew)"
            ) from None

    def advance(self, origin: str, expected: LogState | None, new: LogState) -> bool:
        record = {
            "origin": origin,
            "size": new.size,
            "root_hash": base64.b64encode(new.root_hash).decode(),
            "checkpoint": new.checkpoint.decode(),
        }
        data = json.dumps(record, indent=1).encode() + b"\n"
        with self._lock, self._flock():
            if not _same_tree(self.latest(origin), expected):
                return False
            self._replace(self._path(origin), data)
            return True

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        with (self.directory / ".lock").open("ab") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def _replace(self, path: Path, data: bytes) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as tmp_file:
                tmp_file.write(data)
                tmp_file.flush()
                os.fsync(tmp_file.fileno())
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
