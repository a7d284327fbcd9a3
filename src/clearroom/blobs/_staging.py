"""Crash-safe local files: staged in ``.incoming`` with O_EXCL, fsync'd, then linked or renamed."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

from clearroom.blobs._base import immutable_or_none
from clearroom.blobs._direct import ALIGN, DirectWriter, open_direct
from clearroom.blobs._pipeline import BackgroundWriter, write_all

PIPELINE_AFTER = 8 << 20
"""Uploads larger than this are written by a thread while the caller hashes."""
assert PIPELINE_AFTER % ALIGN == 0  # direct writes start right there

_NO_HARDLINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK}


def fsync_dir(directory: Path) -> None:
    """Make a rename, link or mkdir inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(root: Path, directory: Path) -> None:
    """Create ``directory`` (inside ``root``) and its missing parents, durably."""
    if directory.is_dir():
        return
    missing: list[Path] = []
    current = directory
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        fsync_dir(path.parent)


class StagedFile:
    """A new file ``<incoming>/<random>`` that is written, sealed, then published or discarded."""

    def __init__(self, incoming: Path) -> None:
        self.path = incoming / secrets.token_hex(16)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        self._fd: int | None = os.open(self.path, flags, 0o600)
        self._written = 0
        self._pipe: DirectWriter | BackgroundWriter | None = None
        self._borrowed = False
        self._live = True

    def write(self, view: memoryview) -> None:
        """Write ``view``. Past PIPELINE_AFTER bytes a thread does the writing: direct I/O where
        the file system allows it (bytes are copied into aligned buffers), else buffered writes
        of the caller's buffer, lent, not copied: call :meth:`release` before reusing it."""
        assert self._fd is not None
        if self._pipe is None:
            room = PIPELINE_AFTER - self._written
            if view.nbytes < room:
                self._written += write_all(self._fd, view)
                return
            self._written += write_all(self._fd, view[:room])
            view = view[room:]
            self._pipe = self._start_pipeline()
        if isinstance(self._pipe, DirectWriter):
            self._pipe.write(view)
            return
        kept = immutable_or_none(view)
        self._borrowed = kept is None
        self._pipe.submit(view if kept is None else kept, view.nbytes)

    def _start_pipeline(self) -> DirectWriter | BackgroundWriter:
        assert self._fd is not None
        direct_fd = open_direct(self.path)
        if direct_fd is not None:
            return DirectWriter(self._fd, direct_fd, offset=self._written)
        return BackgroundWriter(self._fd, offset=self._written)

    def release(self) -> None:
        """Return once a lent buffer has been written (overlapping the caller's hashing)."""
        if self._borrowed and isinstance(self._pipe, BackgroundWriter):
            self._pipe.drain()
        self._borrowed = False

    def seal(self, mode: int, *, durable: bool = True) -> None:
        """Finish pending writes, set permissions, fsync and close."""
        assert self._fd is not None
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            pipe.finish()
        os.fchmod(self._fd, mode)
        if durable:
            os.fsync(self._fd)
        fd, self._fd = self._fd, None
        os.close(fd)

    def link_to(self, final: Path) -> bool:
        """Publish as ``final`` unless it exists (atomic hard link); False if it already did."""
        try:
            final.hardlink_to(self.path)
        except FileExistsError:
            created = False
        except OSError as exc:
            if exc.errno not in _NO_HARDLINKS:
                raise
            created = not final.exists()  # no hard links here: a concurrent writer may also rename
            if created:
                self.path.replace(final)
        else:
            created = True
        if created:
            fsync_dir(final.parent)
        self.discard()
        return created

    def replace(self, final: Path) -> None:
        """Publish as ``final``, atomically replacing any previous file."""
        self.path.replace(final)
        self._live = False
        fsync_dir(final.parent)

    def discard(self) -> None:
        """Stop writing, close and remove the staged file (idempotent)."""
        if self._pipe is not None:
            pipe, self._pipe = self._pipe, None
            pipe.abort()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._live:
            self._live = False
            self.path.unlink(missing_ok=True)
