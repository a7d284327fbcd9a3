"""The child-process execution shared by both backends."""

from __future__ import annotations

import os
import time

import pytest

from clearroom.jobs import get
from clearroom.jobs.execute import run_attempt
from tests.jobs.support import alive, wait_for


def test_result_comes_back_and_prints_do_not_corrupt_it(tmp_path):
    marker = tmp_path / "marker"
    outcome = run_attempt(get("tests.touch"), {"path": str(marker), "text": "hi"})
    assert outcome.ok, outcome.error
    assert outcome.result["path"] == str(marker)
    assert outcome.result["pid"] != os.getpid()
    assert marker.read_text() == "hi"


def test_exception_becomes_the_error_text(tmp_path):
    outcome = run_attempt(
        get("tests.always_fails"), {"counter": str(tmp_path / "n"), "message": "disk on fire"}
    )
    assert not outcome.ok
    assert outcome.error.startswith("jobs: tests.always_fails raised ValueError: disk on fire")
    assert "Traceback" in outcome.error  # the tail of the child's stderr


def test_hard_exit_is_reported_with_stderr():
    outcome = run_attempt(get("tests.exits"), {"code": 7})
    assert not outcome.ok
    assert "exited with status 7" in outcome.error
    assert "about to exit hard" in outcome.error


def test_result_that_is_not_json_is_an_error():
    outcome = run_attempt(get("tests.bad_result"), {})
    assert not outcome.ok
    assert "not JSON" in outcome.error


@pytest.mark.slow
def test_time_limit_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "grandchild"
    outcome = run_attempt(get("tests.sleeper"), {"seconds": 300, "pidfile": str(pidfile)})
    assert outcome.timed_out and not outcome.ok
    assert outcome.error.startswith("jobs: tests.sleeper timed out after 10 s")
    assert outcome.duration_seconds < 300  # the limit ended it, not the job
    grandchild = int(pidfile.read_text())
    wait_for(lambda: not alive(grandchild), "the job's own subprocess to die", timeout=5)


def test_abort_interrupts_the_attempt():
    started = time.monotonic()
    outcome = run_attempt(
        get("tests.sleeper"),
        {"seconds": 30},
        should_abort=lambda: time.monotonic() - started > 0.3,
    )
    assert outcome.interrupted and not outcome.ok
    assert "interrupted" in outcome.error
