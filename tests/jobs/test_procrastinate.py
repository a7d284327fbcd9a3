"""The scale-out backend: procrastinate on PostgreSQL. Skipped unless the run is configured
with ``CLEARROOM_JOBS_BACKEND=procrastinate`` (and a PostgreSQL ``CLEARROOM_DATABASE_URL``)."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import connection, transaction

from clearroom.jobs import enqueue, run_worker
from clearroom.jobs.procrastinate_backend import recover_stalled
from tests.jobs.support import alive, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("procrastinate_db")]


class Rollback(Exception):
    pass


def job_row(job_id: int) -> tuple[str, str, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, status, attempts FROM procrastinate_jobs WHERE id = %s", [job_id]
        )
        return cursor.fetchone()


def job_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        return cursor.fetchone()[0]


def work_until_idle() -> None:
    run_worker(burst=True, poll_seconds=0.1)


def test_job_of_a_rolled_back_transaction_does_not_exist(tmp_path):
    with pytest.raises(Rollback), transaction.atomic():
        enqueue("tests.touch", path=str(tmp_path / "never"))
        raise Rollback
    assert job_count() == 0


def test_committed_job_is_run_by_a_worker(tmp_path):
    marker = tmp_path / "marker"
    with transaction.atomic():
        job_id = enqueue("tests.touch", path=str(marker), text="hello")
    assert job_row(job_id) == ("tests.touch", "todo", 0)
    work_until_idle()
    assert job_row(job_id) == ("tests.touch", "succeeded", 1)
    assert marker.read_text() == "hello"


def test_failed_attempts_are_retried_until_one_succeeds(tmp_path):
    counter = tmp_path / "n"
    job_id = enqueue("tests.flaky", counter=str(counter), failures=1)
    work_until_idle()
    assert job_row(job_id) == ("tests.flaky", "succeeded", 2)
    assert counter.read_text() == "2"


def test_job_failing_every_attempt_ends_failed(tmp_path):
    counter = tmp_path / "n"
    job_id = enqueue("tests.always_fails", counter=str(counter), message="no")
    work_until_idle()
    assert job_row(job_id) == ("tests.always_fails", "failed", 2)
    assert counter.read_text() == "2"


def test_on_failure_is_told_the_final_reason_once(tmp_path):
    counter = tmp_path / "n"
    job_id = enqueue("tests.gives_up", counter=str(counter), message="unreadable document")
    work_until_idle()
    assert job_row(job_id) == ("tests.gives_up", "failed", 2)
    reason = (tmp_path / "n.failure").read_text()
    assert reason.startswith("jobs: tests.gives_up raised ValueError: unreadable document")


def test_on_failure_is_told_when_the_last_attempt_was_lost(tmp_path):
    job_id = enqueue("tests.gives_up", counter=str(tmp_path / "n"), message="x")
    with connection.cursor() as cursor:  # its last attempt's worker was pruned mid-attempt
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', attempts = 1 WHERE id = %s", [job_id]
        )
    assert recover_stalled(stalled_seconds=1) == 1
    assert (tmp_path / "n.failure").read_text() == (
        "jobs: tests.gives_up attempt 2 was lost (no heartbeat)"
    )


def test_time_limit_kills_the_attempt():
    job_id = enqueue("tests.sleeper", seconds=300)
    work_until_idle()
    assert job_row(job_id) == ("tests.sleeper", "failed", 1)


def test_dedupe_key_returns_the_queued_job(tmp_path):
    first = enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a")
    with transaction.atomic():
        # the clash is handled in a savepoint: the caller's transaction goes on
        assert enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a") == first
        other = enqueue("tests.touch", path=str(tmp_path / "b"), dedupe_key="touch:b")
    assert other != first
    assert job_count() == 2
    with connection.cursor() as cursor:  # as if a worker had run it
        cursor.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", [first])
    assert enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a") not in (
        first,
        other,
    )


def test_recovery_retries_stalled_jobs_and_fails_those_out_of_attempts(tmp_path):
    last = enqueue("tests.touch", path=str(tmp_path / "x"))  # max_attempts=1
    other = enqueue("tests.flaky", counter=str(tmp_path / "n"), failures=0)  # max_attempts=3
    with connection.cursor() as cursor:  # as if their worker had been pruned mid-attempt
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = ANY(%s)", [[last, other]]
        )
    assert recover_stalled(stalled_seconds=1) == 2
    assert job_row(last) == ("tests.touch", "failed", 1)
    assert job_row(other) == ("tests.flaky", "todo", 1)


@pytest.mark.slow
def test_stalled_job_of_a_killed_worker_is_retried(tmp_path, start_worker):
    counter, started = tmp_path / "n", tmp_path / "started"
    with transaction.atomic():
        job_id = enqueue("tests.slow_once", counter=str(counter), started=str(started), seconds=60)
    first = start_worker(backend="procrastinate", lease_seconds=1.5)
    wait_for(started.exists, "the first attempt to start")
    assert job_row(job_id) == ("tests.slow_once", "doing", 0)
    child_pid = int(started.read_text())

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    wait_for(lambda: not alive(child_pid), "the orphaned attempt to die", timeout=10)

    second = start_worker(backend="procrastinate", lease_seconds=1.5)
    wait_for(
        lambda: job_row(job_id) == ("tests.slow_once", "succeeded", 2),
        "the stalled job to be retried and succeed",
    )
    assert counter.read_text() == "2"

    second.send_signal(signal.SIGTERM)
    assert second.wait(15) == 0
