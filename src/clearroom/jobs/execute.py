"""Runs one attempt of a job in a child process with a hard time limit — the one execution path
of both backends. The child (:mod:`clearroom.jobs.child`) gets the kind, the module that
declares it and the arguments as JSON on stdin, sets Django up like this process, and writes
the JSON result on stdout; a child that outlives its time limit is killed with its whole
process group."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import connections

from clearroom.jobs.registry import JobSpec

logger = logging.getLogger("clearroom.jobs")

CHILD_MODULE = "clearroom.jobs.child"
MAX_RESULT_BYTES = 1024 * 1024
"""A result larger than this is refused (results are stored in the database)."""
STDERR_TAIL_BYTES = 16 * 1024
STDERR_TAIL_LINES = 25
"""How much of the child's stderr is kept as the error text of a failed attempt."""
POLL_SECONDS = 0.5
"""How often the parent checks whether it was asked to abort while the child runs."""


@dataclass(frozen=True)
class AttemptOutcome:
    """What happened to one attempt. ``error`` is empty exactly when ``ok``."""

    ok: bool
    result: Any = None
    error: str = ""
    timed_out: bool = False
    interrupted: bool = False
    """The attempt was stopped by the worker (shutdown, lost lease), not by the job itself."""
    duration_seconds: float = 0.0

    @property
    def outcome(self) -> str:
        if self.ok:
            return "succeeded"
        if self.timed_out:
            return "timed_out"
        if self.interrupted:
            return "interrupted"
        return "failed"


def run_attempt(
    spec: JobSpec,
    kwargs: dict[str, Any],
    *,
    heartbeat: Callable[[], bool] | None = None,
    heartbeat_seconds: float = 10.0,
    should_abort: Callable[[], bool] | None = None,
    label: str = "",
) -> AttemptOutcome:
    """Run ``spec.func(**kwargs)`` in a child process and wait for it, at most
    ``spec.timeout_seconds``.

    ``heartbeat`` is called every ``heartbeat_seconds`` while the child runs (to renew a lease);
    if it returns ``False`` this worker no longer owns the job and the child is killed.
    ``should_abort`` is polled; when it returns ``True`` the child is killed and the outcome is
    marked ``interrupted``."""
    label = label or spec.kind
    payload = json.dumps(
        {
            "kind": spec.kind,
            "module": spec.module,
            "kwargs": kwargs,
            "sys_path": [p for p in sys.path if isinstance(p, str)],
            "databases": _database_names(),
            "parent_pid": os.getpid(),
        }
    ).encode()
    env = dict(os.environ)
    settings_module = getattr(settings, "SETTINGS_MODULE", None)
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module

    started = time.monotonic()
    deadline = started + spec.timeout_seconds
    next_beat = started + heartbeat_seconds
    timed_out = interrupted = False
    reason = ""
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
    ):
        stdin.write(payload)
        stdin.seek(0)
        # A fixed command line: our interpreter and our module; the job comes on stdin.
        child = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", CHILD_MODULE],
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,  # its own process group, so a kill takes its children too
            close_fds=True,
        )
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    timed_out = True
                    break
                step = min(deadline, next_beat) - now
                if should_abort is not None:
                    step = min(step, POLL_SECONDS)
                try:
                    child.wait(timeout=max(step, 0.001))
                    break
                except subprocess.TimeoutExpired:
                    pass
                if should_abort is not None and should_abort():
                    interrupted, reason = True, "its worker stopped it (shutdown or abort request)"
                    break
                if heartbeat is not None and time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + heartbeat_seconds
                    if not _beat(heartbeat, label):
                        interrupted, reason = True, "this worker lost its lease on the job"
                        break
        finally:
            # Always: stray grandchildren die with the attempt, whatever happened.
            _kill_group(child)
        duration = time.monotonic() - started
        outcome = _interpret(
            spec,
            child.returncode,
            stdout,
            stderr,
            timed_out=timed_out,
            interrupted=interrupted,
            reason=reason,
            duration=duration,
        )
    _count(spec.kind, outcome)
    log = logger.info if outcome.ok else logger.warning
    log(
        "jobs: %s %s in %.2f s%s",
        label,
        outcome.outcome.replace("_", " "),
        duration,
        "" if outcome.ok else f": {outcome.error.splitlines()[0]}",
    )
    return outcome


def _interpret(
    spec: JobSpec,
    returncode: int | None,
    stdout: IO[bytes],
    stderr: IO[bytes],
    *,
    timed_out: bool,
    interrupted: bool,
    reason: str,
    duration: float,
) -> AttemptOutcome:
    tail = _tail(stderr)
    if timed_out:
        error = f"jobs: {spec.kind} timed out after {spec.timeout_seconds:g} s and was killed"
        return AttemptOutcome(
            ok=False, error=_with_tail(error, tail), timed_out=True, duration_seconds=duration
        )
    if interrupted:
        error = f"jobs: {spec.kind} was interrupted: {reason}"
        return AttemptOutcome(
            ok=False, error=_with_tail(error, tail), interrupted=True, duration_seconds=duration
        )
    stdout.seek(0)
    raw = stdout.read(MAX_RESULT_BYTES + 1)
    if len(raw) > MAX_RESULT_BYTES:
        error = f"jobs: {spec.kind} returned a result larger than {MAX_RESULT_BYTES} bytes"
        return AttemptOutcome(ok=False, error=error, duration_seconds=duration)
    report: Any = None
    if raw.strip():
        try:
            report = json.loads(raw)
        except ValueError:
            report = None
    if not isinstance(report, dict):
        report = {}
    if returncode == 0 and report.get("ok") is True:
        return AttemptOutcome(ok=True, result=report.get("result"), duration_seconds=duration)
    if isinstance(report.get("error"), str):
        error = report["error"]
    elif returncode is not None and returncode < 0:
        error = f"jobs: {spec.kind}: the child process was killed by {_signal_name(-returncode)}"
    else:
        error = f"jobs: {spec.kind}: the child process exited with status {returncode}"
    return AttemptOutcome(ok=False, error=_with_tail(error, tail), duration_seconds=duration)


def _beat(heartbeat: Callable[[], bool], label: str) -> bool:
    try:
        return heartbeat()
    except Exception:
        # A database hiccup must not kill a healthy attempt; the lease has slack for it.
        logger.exception("jobs: %s: could not renew the lease", label)
        return True


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(size - STDERR_TAIL_BYTES, 0))
    text = stream.read().decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-STDERR_TAIL_LINES:])


def _with_tail(error: str, tail: str) -> str:
    return f"{error}\n\n{tail}" if tail else error


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _database_names() -> dict[str, str]:
    """The databases this process really uses (a test run renames them), so the child opens
    the same ones instead of what its settings module names."""
    names: dict[str, str] = {}
    for alias in settings.DATABASES:
        name = connections[alias].settings_dict.get("NAME")
        if name:
            names[alias] = str(name)
    return names


def _count(kind: str, outcome: AttemptOutcome) -> None:
    try:
        from clearroom.server.ops.metrics import JOBS_FINISHED
    except ImportError:  # metrics are optional for the jobs layer
        return
    JOBS_FINISHED.labels(kind=kind, outcome=outcome.outcome).inc()
