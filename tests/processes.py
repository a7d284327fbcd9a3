"""Start the processes a test needs, and stop every one of them whatever happens.

Why one helper: a test that stops its server with SIGINT, or waits on it without a bound, can
leave it running for good (a suite started in the background by a non-interactive shell runs
its children with SIGINT ignored). Here each process starts in a process group of its own, so
whatever it starts (the demo's witness, gunicorn's workers, job attempts) goes with it; it is
stopped with SIGTERM to the whole group, a generous wait, then SIGKILL to the group as a last
resort. By default it starts with SIGINT and SIGTERM *ignored*, exactly what a server inherits
from a background shell, so every test of a server also proves that it installs its own
handlers and stops on SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

STOP_TIMEOUT = 60.0
"""Seconds a process may take to stop on SIGTERM before it is killed (a bound, not a goal)."""

_IGNORING_STOP_SIGNALS = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def start(
    command: Sequence[str], *, ignoring_stop_signals: bool = True, **popen: Any
) -> subprocess.Popen[Any]:
    """``subprocess.Popen(command, **popen)`` in a new session (its own process group), with
    SIGINT and SIGTERM inherited as ignored unless ``ignoring_stop_signals`` is False. Prefer
    :func:`running`, which also stops it."""
    argv = list(command)
    if ignoring_stop_signals:  # a wrapper that execs, so the pid is the command's
        argv = [sys.executable, "-c", _IGNORING_STOP_SIGNALS, *argv]
    return subprocess.Popen(argv, start_new_session=True, **popen)


@dataclass(frozen=True)
class Stopped:
    """How a process ended: its exit status (negative: the signal that killed it) and what it
    wrote to the pipes it was given (None where it had none)."""

    returncode: int
    stdout: Any
    stderr: Any
    killed: bool
    """SIGKILL was needed: the process, or something it started, ignored SIGTERM."""


def stop(process: subprocess.Popen[Any], *, timeout: float = STOP_TIMEOUT) -> Stopped:
    """SIGTERM the process's group and wait for the process, reading what is left on its
    pipes; SIGKILL the group if it has not stopped within ``timeout``. Afterwards nothing of
    the group is left running. Safe to call again."""
    pgid = process.pid  # a session leader's pid is its group's id
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    killed = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(pgid)
        out, err = process.communicate()
    deadline = time.monotonic() + timeout  # what it started gets the same bound
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(pgid):
        killed = True
        _kill_group(pgid)
    return Stopped(process.returncode, out, err, killed)


@contextlib.contextmanager
def running(
    command: Sequence[str], *, ignoring_stop_signals: bool = True, **popen: Any
) -> Iterator[subprocess.Popen[Any]]:
    """:func:`start` the command; :func:`stop` it (and its group) when the block ends, however
    it ends. A test that wants to check the exit calls :func:`stop` itself inside the block."""
    process = start(command, ignoring_stop_signals=ignoring_stop_signals, **popen)
    try:
        yield process
    finally:
        stop(process)


# --- No process outlives the suite ---------------------------------------------------------------

SESSION_MARK = "PYTEST_CLEARROOM_SESSION"
"""Set (fresh) in the test process's environment, so every process the suite starts, and all
they start (a daemonising gpg-agent included), carries it and can be found at the end. Not a
``CLEARROOM_`` name: tests strip those from the environments they hand to subprocesses."""


def mark_session() -> str:
    value = f"{os.getpid()}-{time.time_ns()}"
    os.environ[SESSION_MARK] = value
    return value


def _carries(pid: str, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rsplit(b")", 1)[-1].split()[0] == b"Z":
                return False  # exited, waiting to be reaped: nothing runs
        with open(f"/proc/{pid}/environ", "rb") as environ:
            return needle in b"\0" + environ.read()
    except OSError:  # gone meanwhile, or not ours to read
        return False


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def leftovers(mark: str, *, grace: float = 10.0) -> dict[int, str]:
    """The processes other than this one that carry ``mark`` in their environment and are
    still running after ``grace`` seconds (to let stopping ones finish): pid -> command line."""
    needle = f"\0{SESSION_MARK}={mark}\0".encode()
    deadline = time.monotonic() + grace
    while True:
        found = {
            int(pid): _command_line(int(pid))
            for pid in os.listdir("/proc")
            if pid.isdigit() and int(pid) != os.getpid() and _carries(pid, needle)
        }
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def gpg_agents(home: os.PathLike[str] | str, *, grace: float = 10.0) -> list[int]:
    """The pids of the gpg-agents serving the GnuPG home ``home`` still running after
    ``grace`` seconds (an agent told to stop takes a moment)."""
    wanted = ["--homedir", os.fspath(home)]
    deadline = time.monotonic() + grace
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    argv = cmdline.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            is_agent = bool(argv) and os.path.basename(argv[0]) == "gpg-agent"
            if is_agent and any(argv[i : i + 2] == wanted for i in range(len(argv))):
                found.append(int(pid))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
