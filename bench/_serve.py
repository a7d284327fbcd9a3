"""``clearroom serve`` for a benchmark: on a free loopback port, ready once ``/healthz``
answers, and stopped (its whole process group) afterwards, whatever happened."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    """The gunicorn arbiter's; its workers are its children."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    env: dict[str, str], *, workers: int = 1, threads: int = 4, jobs: bool = True
) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "clearroom.cli.main", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    command += [] if jobs else ["--no-jobs"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(port, process.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(server.base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("clearroom serve did not become healthy within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        # The same stop as the tests' (tests/processes.py; a script here cannot import it):
        # SIGTERM to the group, a bounded wait, then SIGKILL to whatever of the group is left.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=40)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
