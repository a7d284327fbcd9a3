"""The operator's commands, run as a person would run them: exit codes and messages, never a
traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

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


def test_worker_stops_cleanly_on_sigterm(tmp_path):
    clearroom("migrate", data_dir=tmp_path)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    worker = subprocess.Popen(
        [sys.executable, "-m", "clearroom.cli.main", "worker"],
        env={**base, "CLEARROOM_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "Worker started (inprocess backend)" in out
