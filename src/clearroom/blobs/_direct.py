"""Large staged files written with ``O_DIRECT``: bytes go from a small ring of page-aligned buffers
straight to the device, on a thread, while the caller hashes the next chunk.

Why: on virtualised disks the page cache is often the slow part of a big write — allocating and
dirtying a gigabyte of pages, then writing them back — and a buffered write plus fsync ran at a
third of the device's speed on the machines Clearroom is measured on (docs/PERFORMANCE.md).
Direct writes skip that and leave only the device's own speed. Where the file system refuses
``O_DIRECT`` :func:`open_direct` returns None and the caller keeps buffered writes.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections import deque

ALIGN = 4096
"""Offsets, lengths and buffer addresses of direct I/O must be multiples of the logical block
size; 4096 covers every common device."""
BLOCK = 4 << 20
SLOTS = 4


def open_direct(path: str | os.PathLike[str]) -> int | None:
    """A second descriptor on ``path`` for direct writes, or None where they are not supported."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | flag | os.O_CLOEXEC)
    except OSError:
        return None


class DirectWriter:
    """Appends to a file from ``offset`` (a multiple of :data:`ALIGN`) in direct blocks.

    ``write`` copies the caller's bytes into the current aligned buffer (so the caller may reuse
    its own buffer at once) and hands every full buffer to the writer thread. ``finish`` writes
    the final partial block through the ordinary descriptor ``fd`` and waits for everything.
    At most :data:`SLOTS` buffers exist.
    """

    def __init__(self, fd: int, direct_fd: int, *, offset: int) -> None:
        if offset % ALIGN:
            raise ValueError(f"blobs: direct writes must start at a multiple of {ALIGN}")
        self._fd = fd
        self._direct_fd = direct_fd
        self._next_offset = offset
        self._free: deque[mmap.mmap] = deque(mmap.mmap(-1, BLOCK) for _ in range(SLOTS))
        self._full: deque[tuple[mmap.mmap, int]] = deque()
        self._current = self._free.popleft()
        self._fill = 0
        self._cond = threading.Condition()
        self._closing = False
        self._stopped = False
        self._error: OSError | None = None
        self._thread = threading.Thread(
            target=self._run, name="clearroom-direct-writer", daemon=True
        )
        self._thread.start()

    def write(self, view: memoryview) -> None:
        done = 0
        total = view.nbytes
        while done < total:
            n = min(BLOCK - self._fill, total - done)
            self._current[self._fill : self._fill + n] = view[done : done + n]
            self._fill += n
            done += n
            if self._fill == BLOCK:
                self._hand_over()

    def _hand_over(self) -> None:
        with self._cond:
            self._raise_failure()
            self._full.append((self._current, self._next_offset))
            self._next_offset += BLOCK
            self._cond.notify_all()
            while not self._free and self._error is None and not self._stopped:
                self._cond.wait()
            self._raise_failure()
            self._current = self._free.popleft()
        self._fill = 0

    def finish(self) -> None:
        """Write what is left and wait for the thread; raises its error if it had one."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_failure()
        if self._fill:
            tail = memoryview(self._current)[: self._fill]
            written = 0
            while written < self._fill:
                written += os.pwrite(self._fd, tail[written:], self._next_offset + written)
            tail.release()
        self._close()

    def abort(self) -> None:
        with self._cond:
            self._stopped = True
            self._full.clear()
            self._cond.notify_all()
        self._thread.join()
        self._close()

    def _close(self) -> None:
        if self._direct_fd >= 0:
            os.close(self._direct_fd)
            self._direct_fd = -1

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise OSError(self._error.errno, f"blobs: direct write failed: {self._error}")

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._full and not self._closing and not self._stopped:
                    self._cond.wait()
                if self._stopped or not self._full:
                    return
                buffer, offset = self._full.popleft()
            try:
                view = memoryview(buffer)
                written = 0
                while written < BLOCK:
                    written += os.pwrite(self._direct_fd, view[written:], offset + written)
                view.release()
            except OSError as exc:
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._free.append(buffer)
                self._cond.notify_all()
