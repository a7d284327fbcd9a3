"""Overlaps disk writes and writeback with hashing, so big local uploads run at hashing speed."""

from __future__ import annotations

import os
import threading
from collections import deque


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing a dirty range to disk now, without waiting for it.

    On Linux ``POSIX_FADV_DONTNEED`` begins writeback of dirty pages asynchronously (and drops only
    pages already clean), so the final ``fsync`` finds little left to flush. A no-op elsewhere.
    """
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def write_all(fd: int, view: memoryview | bytes) -> int:
    """Write every byte of ``view`` to ``fd`` (``os.write`` may write less than asked)."""
    done = os.write(fd, view)
    total = len(view)
    while done < total:
        done += os.write(fd, memoryview(view)[done:])
    return total


class BackgroundWriter:
    """A thread writing queued buffers to ``fd`` from ``offset``, starting writeback as it goes.

    Buffers handed to `submit` must not change afterwards (pass ``bytes`` or a copy). At most
    ``max_pending`` bytes wait in memory (always at least one buffer); every ``flush_every``
    bytes the kernel is asked to start writing them to disk.
    """

    def __init__(
        self, fd: int, *, offset: int, max_pending: int = 64 << 20, flush_every: int = 32 << 20
    ) -> None:
        self._fd = fd
        self._max_pending = max_pending
        self._offset = offset
        self._flush_every = flush_every
        self._cond = threading.Condition()
        self._queue: deque[memoryview | bytes] = deque()
        self._pending = 0
        self._closing = False
        self._stopped = False
        self._running = True
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="clearroom-blob-writer", daemon=True)
        self._thread.start()

    def submit(self, data: memoryview | bytes, nbytes: int) -> None:
        """Queue ``data``; blocks while too much is pending; raises the writer thread's error."""
        with self._cond:
            while self._pending and self._pending + nbytes > self._max_pending and self._running:
                self._cond.wait()
            self._raise_failure()
            self._queue.append(data)
            self._pending += nbytes
            self._cond.notify_all()

    def drain(self) -> None:
        """Wait until everything queued so far is written; raises the writer thread's error."""
        with self._cond:
            while self._pending and self._running:
                self._cond.wait()
            self._raise_failure()

    def finish(self) -> None:
        """Wait until everything queued is written; raises the writer thread's error."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """Drop what is queued and stop the thread."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise OSError(self._error.errno, f"blobs: background write failed: {self._error}")
        if not self._running and not (self._closing or self._stopped):
            raise RuntimeError("blobs: background writer stopped unexpectedly")

    def _run(self) -> None:
        flushed = offset = self._offset
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing and not self._stopped:
                        self._cond.wait()
                    if self._stopped or not self._queue:
                        return
                    data = self._queue.popleft()
                written = write_all(self._fd, data)
                offset += written
                if offset - flushed >= self._flush_every:
                    start_writeback(self._fd, flushed, offset - flushed)
                    flushed = offset
                with self._cond:
                    self._pending -= written
                    self._cond.notify_all()
        except OSError as exc:
            self._error = exc
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()
