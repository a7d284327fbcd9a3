"""Job functions the jobs tests enqueue. They run in child processes, so they talk to the test
through files whose paths are arguments."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from clearroom.jobs import job


def bump(counter: str) -> int:
    """Add one to the number in ``counter`` and return it (the attempt number)."""
    with open(counter, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
    return n


@job("tests.touch", max_attempts=1, timeout=30)
def touch(*, path: str, text: str = "done") -> dict:
    Path(path).write_text(text)
    print("this goes to stderr, not into the result")
    return {"path": path, "pid": os.getpid()}


@job("tests.flaky", max_attempts=3, timeout=30, retry_backoff=0)
def flaky(*, counter: str, failures: int) -> dict:
    attempt = bump(counter)
    if attempt <= failures:
        raise RuntimeError(f"flaky failure on attempt {attempt}")
    return {"attempt": attempt}


@job("tests.always_fails", max_attempts=2, timeout=30, retry_backoff=0)
def always_fails(*, counter: str, message: str) -> None:
    bump(counter)
    raise ValueError(message)


def _note_failure(*, error: str, counter: str, message: str) -> None:
    """``tests.gives_up``'s on_failure: runs in the worker, once, after the last attempt."""
    Path(counter + ".failure").write_text(error)


@job("tests.gives_up", max_attempts=2, timeout=30, retry_backoff=0, on_failure=_note_failure)
def gives_up(*, counter: str, message: str) -> None:
    bump(counter)
    raise ValueError(message)


@job("tests.sleeper", max_attempts=1, timeout=10)  # room for a slow start on a loaded machine
def sleeper(*, seconds: float, pidfile: str = "") -> None:
    if pidfile:
        # a grandchild in the same process group: the time limit must take it down too
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        Path(pidfile).write_text(str(grandchild.pid))
    time.sleep(seconds)


@job("tests.slow_once", max_attempts=3, timeout=60, retry_backoff=0)
def slow_once(*, counter: str, started: str, seconds: float) -> dict:
    """The first attempt announces itself then runs long (the test kills its worker); later
    attempts finish at once."""
    attempt = bump(counter)
    if attempt == 1:
        Path(started).write_text(str(os.getpid()))
        time.sleep(seconds)
    return {"attempt": attempt}


@job("tests.bad_result", max_attempts=1, timeout=30)
def bad_result() -> object:
    return {"not json": {1, 2}}


@job("tests.exits", max_attempts=1, timeout=30)
def exits(*, code: int) -> None:
    sys.stderr.write("about to exit hard\n")
    sys.stderr.flush()
    os._exit(code)
