"""The operator's commands, run as a person would run them: exit codes and messages, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests import processes
from tests.cli.test_demo_and_serve import _free_port

pytestmark = pytest.mark.slow


def clearroom(
    *args: str, data_dir, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "clearroom.cli.main", *args],
        env={**base, "CLEARROOM_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_createadmin_creates_an_operator_once(tmp_path):
    assert clearroom("migrate", data_dir=tmp_path).returncode == 0
    ok = clearroom(
        "createadmin",
        "--username",
        "root",
        "--email",
        "r@example.org",
        data_dir=tmp_path,
        CLEARROOM_ADMIN_PASSWORD="a long enough passphrase",
    )
    assert ok.returncode == 0, ok.stderr
    again = clearroom(
        "createadmin",
        "--username",
        "root",
        "--email",
        "",
        data_dir=tmp_path,
        CLEARROOM_ADMIN_PASSWORD="a long enough passphrase",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr


def test_createadmin_refuses_a_weak_password(tmp_path):
    clearroom("migrate", data_dir=tmp_path)
    weak = clearroom(
        "createadmin",
        "--username",
        "root",
        "--email",
        "",
        data_dir=tmp_path,
        CLEARROOM_ADMIN_PASSWORD="password",
    )
    assert weak.returncode == 1
    assert "too common" in weak.stderr or "too short" in weak.stderr


def test_a_configuration_mistake_is_one_clear_line(tmp_path):
    result = clearroom("migrate", data_dir=tmp_path, CLEARROOM_JOBS_BACKED="procrastinate")
    assert result.returncode == 1
    assert "unknown variable CLEARROOM_JOBS_BACKED" in result.stderr
    assert "Traceback" not in result.stderr


def _until_ready(process: subprocess.Popen[str], ready: str, port: int | None) -> None:
    """Until the server says ``ready`` on stdout (and, with ``port``, answers /healthz)."""
    assert process.stdout is not None
    for line in process.stdout:
        if ready in line:
            break
    else:
        pytest.fail(f"it stopped before saying {ready!r}: {processes.stop(process).stderr}")
    deadline = time.monotonic() + 120
    while port is not None and process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    assert port is None, f"no answer on /healthz: {processes.stop(process).stderr}"


@pytest.mark.parametrize(
    ("command", "ready", "http"),
    [
        (["worker"], "Worker started (inprocess backend)", False),
        (["log", "run"], "Log writer for", False),
        (["serve", "--threads", "2"], "Clearroom at", True),
    ],
    ids=["worker", "log-run", "serve"],
)
def test_a_server_started_from_a_background_shell_still_stops_cleanly_on_sigterm(
    tmp_path, command, ready, http
):
    """Started with SIGINT and SIGTERM ignored (what a non-interactive shell hands a
    background job), each server still stops on SIGTERM, as systemd and container runtimes
    send it: exit 0, no traceback, nothing of it left running."""
    assert clearroom("migrate", data_dir=tmp_path).returncode == 0
    port = _free_port() if http else None
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    argv = [sys.executable, "-m", "clearroom.cli.main", *command]
    argv += ["--port", str(port)] if port else []
    with processes.running(
        argv,
        env={**base, "CLEARROOM_DATA_DIR": str(tmp_path), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        _until_ready(server, ready, port)
        stopped = processes.stop(server)
    assert stopped.returncode == 0, stopped.stderr
    assert not stopped.killed, "it ignored SIGTERM"
    assert "Traceback" not in stopped.stderr


def test_log_monitor_watch_started_from_a_background_shell_stops_on_sigterm(tmp_path):
    from clearroom.blobs import LocalObjectStore
    from clearroom.tlog.note import generate_key, parse_signer_key
    from clearroom.tlog.sequencer import Sequencer

    signer_key, verifier_key = generate_key("clearroom.test/watched")
    with Sequencer(
        tmp_path / "sequence", LocalObjectStore(tmp_path / "tiles"), parse_signer_key(signer_key)
    ) as log:
        log.receipt(log.add_many([b"an entry"])[0], timeout=60)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    argv = [sys.executable, "-m", "clearroom.cli.main", "log", "monitor", str(tmp_path)]
    argv += ["--key", verifier_key, "--watch", "0.2", "--json"]
    with processes.running(
        argv, env=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as monitor:
        _until_ready(monitor, '"ok": true', None)
        stopped = processes.stop(monitor)
    assert (stopped.returncode, stopped.killed) == (0, False), stopped.stderr
    assert "Traceback" not in stopped.stderr
