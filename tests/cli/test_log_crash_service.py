"""The service-level crash test: ``clearroom serve`` killed with SIGKILL again and again while
vendors publish. After each restart every committed fact ends up in the log exactly once (the
outbox and the log's recovery agree), and a monitor verifies the whole log."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests import processes
from tests.cli.test_demo_and_serve import _clean_env, _free_port, wait_healthy

pytestmark = pytest.mark.slow
PRODUCT = "/api/products/acme/edgerouter-x5/releases"


def _start(data_dir, port, log_file):
    command = [sys.executable, "-m", "clearroom.cli.main", "demo", "--no-witness"]
    process = processes.start(
        [*command, "--port", str(port), "--data-dir", str(data_dir)],
        env=_clean_env(COLUMNS="200"),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log_file)
    except BaseException:
        processes.stop(process)
        raise
    return process


def _publish_until_stopped(base, token, run, stop, acknowledged):
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        n = 0
        while not stop.is_set():
            version = f"{run}.{n}.0"
            n += 1
            body = f"firmware {version}".encode()
            try:
                http.post(PRODUCT, json={"version": version}).raise_for_status()
                http.put(
                    f"{PRODUCT}/{version}/artifacts/fw.img",
                    params={"sha256": hashlib.sha256(body).hexdigest()},
                    content=body,
                ).raise_for_status()
                if http.post(f"{PRODUCT}/{version}/publish").status_code == 200:
                    acknowledged.append(version)
            except httpx.HTTPError:
                return  # the server was killed


def _entries(base, size):
    """The entry at every index of the log, as the service reports it."""
    with httpx.Client(base_url=base) as http:
        return [http.get("/api/log/entries", params={"index": i}).json() for i in range(size)]


def test_sigkill_during_publishing_loses_no_fact_and_logs_none_twice(tmp_path):
    data_dir, port = tmp_path / "data", _free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = (tmp_path / "demo.log").open("w+")
    acknowledged: list[str] = []
    token = None
    for run in range(3):
        process = _start(data_dir, port, log_file)
        try:
            if token is None:
                log_file.seek(0)
                token = re.search(r"clr_[0-9a-f]+_[A-Za-z0-9_-]+", log_file.read()).group(0)
            stop = threading.Event()
            publisher = threading.Thread(
                target=_publish_until_stopped, args=(base, token, run + 1, stop, acknowledged)
            )
            publisher.start()
            time.sleep(1.5 + run)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            stop.set()
            publisher.join(timeout=30)
        finally:
            processes.stop(process)
    process = _start(data_dir, port, log_file)
    try:
        deadline = time.monotonic() + 60
        while (info := httpx.get(base + "/api/log").json())["waiting"]:
            assert time.monotonic() < deadline, f"facts were not logged after restart: {info}"
            time.sleep(0.3)
        # Every index holds exactly one entry the service knows, and no fact is there twice.
        entries = _entries(base, info["size"])
        assert all(len(found) == 1 for found in entries)
        fact_ids = [found[0]["entry"]["id"] for found in entries]
        assert len(set(fact_ids)) == len(fact_ids)
        # Nothing acknowledged was lost: each acknowledged publication is a logged fact.
        logged = {
            e[0]["entry"]["release"]["version"]
            for e in entries
            if e[0]["fact"] == "clearroom.dev/release/v1"
        }
        assert len(acknowledged) >= 3 and set(acknowledged) <= logged
        command = [sys.executable, "-m", "clearroom.cli.main", "log", "monitor", base + "/log/"]
        monitor = subprocess.run(
            [*command, "--key", info["verifier_key"]],
            env=_clean_env(COLUMNS="200"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert monitor.returncode == 0, monitor.stdout + monitor.stderr
        stopped = processes.stop(process)  # SIGTERM, inherited ignored: a clean stop
        assert (stopped.returncode, stopped.killed) == (0, False)
    finally:
        processes.stop(process)
        log_file.close()
