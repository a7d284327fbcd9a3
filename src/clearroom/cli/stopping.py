"""How every long-running command stops: on SIGTERM or SIGINT, by one clean path, exit 0.

Why a helper of its own: systemd, container runtimes and test harnesses stop a server with
SIGTERM, whose default action kills Python without running ``finally`` blocks; and a process
started in the background by a non-interactive shell inherits SIGINT as *ignored* (POSIX), in
which case Python installs no KeyboardInterrupt handler and Ctrl-C or ``kill -INT`` does nothing.
So each server (``serve``, ``demo``, ``worker``, ``witness serve``, ``log run``, ``log monitor
--watch``) installs handlers for both signals itself, whatever it inherited, and routes them to
the shutdown path it already has. A stop asked for by a signal is a success: exit status 0.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["STOP_SIGNALS", "StopRequested", "stop_signals"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequested(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGINT when the command gave no ``stop``
    callback; a KeyboardInterrupt, so the paths written for Ctrl-C run."""


@contextlib.contextmanager
def stop_signals(stop: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT stop the command, even if they were inherited as
    ignored. With ``stop``, the handler calls it (it must only ask the service to stop and
    return at once; the block then ends the usual way); without, it raises
    :class:`StopRequested` in the main thread, and if nothing inside catches it the command
    exits with status 0 (a SystemExit, so ``finally`` blocks and exit handlers run). The
    previous handlers come back when the block ends. Outside the main thread (where Python
    allows no handlers) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop is None:
            raise StopRequested(signal.Signals(signum).name)
        stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield
    except StopRequested:  # not caught inside: stop here (finally blocks, atexit), status 0
        raise SystemExit(0) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
