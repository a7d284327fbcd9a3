"""The checkpoints a verifying client has seen, one file per log in a state directory, like
the Go checksum-database client's cache: a later bundle must be consistent with what was
seen, so a log that shows this client another history is caught."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from clearroom.tlog.note import MAX_NOTE_SIZE
from clearroom.untrusted import InputError, read_capped

MAX_SEEN_BYTES = MAX_NOTE_SIZE
"""A remembered checkpoint is a signed note, 1 MiB at most."""
STATE_DEADLINE = 10.0
"""Seconds to read it: a local file takes milliseconds, a FIFO may never answer."""


class SeenStateUnreadable(InputError):
    """A remembered checkpoint cannot be read: over `MAX_SEEN_BYTES`, not a file, unreadable,
    or silent past `STATE_DEADLINE`. Verification cannot check consistency: it stops."""


class SeenCheckpoints:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, origin: str) -> Path:
        return self.directory / f"checkpoint-{hashlib.sha256(origin.encode()).hexdigest()[:24]}"

    def load(self, origin: str) -> bytes | None:
        """The remembered checkpoint of the log ``origin``, or None if there is none yet. Read
        capped and with a deadline (`read_capped`): a state file that is huge, ``/dev/zero`` or
        a silent FIFO raises `SeenStateUnreadable` instead of filling memory or hanging."""
        path = self._path(origin)
        if not os.path.lexists(path):
            return None
        try:
            return read_capped(path, MAX_SEEN_BYTES, what="state", deadline=STATE_DEADLINE)
        except InputError as exc:
            raise SeenStateUnreadable(
                f"{exc}; it is this client's remembered checkpoint of {origin}: give --state"
                " another directory, or move the file away to start over"
            ) from None

    def save(self, origin: str, note: bytes) -> None:
        """Atomically replace the remembered checkpoint (a crash keeps the old or the new)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".checkpoint-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(note)
                f.flush()
                os.fsync(f.fileno())
            Path(temporary).replace(self._path(origin))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
