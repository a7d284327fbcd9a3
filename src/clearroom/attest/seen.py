"""The checkpoints a verifying client has seen, one file per log in a state directory, like
the Go checksum-database client's cache: a later bundle must be consistent with what was
seen, so a log that shows this client another history is caught."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class SeenCheckpoints:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, origin: str) -> Path:
        return self.directory / f"checkpoint-{hashlib.sha256(origin.encode()).hexdigest()[:24]}"

    def load(self, origin: str) -> bytes | None:
        try:
            return self._path(origin).read_bytes()
        except FileNotFoundError:
            return None

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
