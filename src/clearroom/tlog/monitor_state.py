"""Where a monitor keeps the last checkpoint it verified completely, between runs.

Why separate from the monitor: the state is the monitor's memory of what the log promised; it
must survive crashes (atomic replace, fsync) and refuse anything that is not a state file, and
those rules are about files, not about Merkle trees.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from clearroom.tlog.errors import InvalidMonitorState
from clearroom.tlog.hashing import HASH_SIZE
from clearroom.untrusted import InputError, MalformedInput, parse_json, read_capped

__all__ = ["FileMonitorState", "MemoryMonitorState", "MonitorState", "VerifiedCheckpoint"]

_STATE_FORMAT = "clearroom-tlog-monitor/v1"
_MAX_STATE_BYTES = 4 << 20
"""A state file holds one checkpoint (a signed note, at most 1 MiB) and a few fields."""
_DEADLINE = 10.0
"""Seconds to read the state file: a local file takes milliseconds, a FIFO may never answer."""


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """The last checkpoint the monitor verified completely: the signed note as fetched, and the
    size and root it states."""

    note: bytes
    size: int
    root: bytes


class MonitorState(Protocol):
    """Where the last verified checkpoint is kept between runs; ``location`` names it in
    messages. ``save`` must be atomic: a crash leaves the old state or the new one."""

    @property
    def location(self) -> str: ...
    def load(self) -> VerifiedCheckpoint | None: ...
    def save(self, checkpoint: VerifiedCheckpoint) -> None: ...


class MemoryMonitorState:
    """State for one process (tests, ``--watch`` without ``--state``)."""

    location = "(memory)"

    def __init__(self, checkpoint: VerifiedCheckpoint | None = None) -> None:
        self.checkpoint = checkpoint

    def load(self) -> VerifiedCheckpoint | None:
        return self.checkpoint

    def save(self, checkpoint: VerifiedCheckpoint) -> None:
        self.checkpoint = checkpoint


class FileMonitorState:
    """State as a small JSON file, replaced atomically (temporary file, fsync, rename, fsync of
    the directory). A missing file means "never verified": the next run checks from scratch."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def location(self) -> str:
        return str(self.path)

    def load(self) -> VerifiedCheckpoint | None:
        """The saved checkpoint, read capped and with a deadline (`read_capped`): a state path
        that is ``/dev/zero``, a huge file or a silent FIFO is refused, not read without end."""
        if not os.path.lexists(self.path):
            return None
        try:
            raw = read_capped(self.path, _MAX_STATE_BYTES, what="state", deadline=_DEADLINE)
        except InputError as exc:
            raise InvalidMonitorState(self.location, str(exc).removeprefix("state: ")) from None
        try:
            doc = parse_json(raw, what="its content")
            if doc.get("format") != _STATE_FORMAT:
                raise ValueError(f"format is not {_STATE_FORMAT!r}")
            size, root = doc["size"], base64.b64decode(doc["root"], validate=True)
            note = doc["checkpoint"].encode()
            if type(size) is not int or size < 0 or len(root) != HASH_SIZE:
                raise ValueError("size or root is malformed")
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            binascii.Error,
            MalformedInput,
        ) as exc:
            raise InvalidMonitorState(self.location, f"not a monitor state file ({exc})") from exc
        return VerifiedCheckpoint(note, size, root)

    def save(self, checkpoint: VerifiedCheckpoint) -> None:
        doc = {
            "format": _STATE_FORMAT,
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode(),
            "checkpoint": checkpoint.note.decode(),
            "verified_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(json.dumps(doc, indent=2).encode() + b"\n")
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
