"""Key files the service makes for itself on first start (the log key, the centre's attestation
key): written whole before they appear, mode 0600, and never replaced."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_once(path: Path, data: bytes) -> None:
    """Write ``path`` (mode 0600) unless it exists; a concurrent reader never sees it half
    written, and of two racing processes exactly one key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        Path(temporary).unlink()
