"""The embedded backend: jobs as rows written in the caller's transaction, run by a Runner."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from clearroom.jobs import enqueue, run_worker, start_background_runner
from clearroom.jobs.inprocess import Runner
from clearroom.jobs.models import Job, JobStatus
from tests.jobs.support import alive, wait_for

pytestmark = pytest.mark.usefixtures("inprocess")


class Rollback(Exception):
    pass


def runner() -> Runner:
    return Runner(lease_seconds=5, poll_seconds=0.1)


@pytest.mark.django_db(transaction=True)
def test_job_of_a_rolled_back_transaction_does_not_exist(tmp_path):
    with pytest.raises(Rollback), transaction.atomic():
        enqueue("tests.touch", path=str(tmp_path / "never"))
        raise Rollback
    assert not Job.objects.exists()
    assert runner().run_until_idle() == 0
    assert not (tmp_path / "never").exists()


@pytest.mark.django_db(transaction=True)
def test_committed_job_runs_in_the_background_runner_and_records_its_result(tmp_path):
    marker = tmp_path / "marker"
    handle = start_background_runner()
    try:
        with transaction.atomic():
            job_id = enqueue("tests.touch", path=str(marker), text="hello")
        job = wait_for(
            lambda: Job.objects.filter(pk=job_id, status=JobStatus.SUCCEEDED).first(),
            "the job to succeed",
        )
    finally:
        handle.stop()
    assert marker.read_text() == "hello"
    assert job.result == {"path": str(marker), "pid": job.result["pid"]}
    assert job.attempts == 1
    assert job.module == "tests.jobs.sample_tasks"
    assert job.started_at and job.finished_at and job.locked_by == ""


@pytest.mark.django_db
def test_failed_attempts_are_retried_until_one_succeeds(tmp_path):
    job_id = enqueue("tests.flaky", counter=str(tmp_path / "n"), failures=1)
    assert runner().run_until_idle() == 2
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 2
    assert job.result == {"attempt": 2}
    assert "flaky failure on attempt 1" in job.last_error


@pytest.mark.django_db
def test_job_whose_module_is_gone_fails_the_attempt_and_waits_for_the_backoff():
    job = Job.objects.create(
        kind="tests.gone", module="tests.jobs.no_such_module", args={}, max_attempts=2
    )
    assert runner().run_until_idle() == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)
    assert job.last_error.startswith("jobs: cannot import tests.jobs.no_such_module")
    # the default backoff (10 s after the first attempt): not due again yet
    assert job.run_after > timezone.now() + timedelta(seconds=5)
    assert runner().run_until_idle() == 0


@pytest.mark.django_db
def test_job_failing_every_attempt_ends_failed_with_the_error(tmp_path):
    counter = tmp_path / "n"
    job_id = enqueue("tests.always_fails", counter=str(counter), message="checksum mismatch")
    assert runner().run_until_idle() == 2
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == job.max_attempts == 2
    assert counter.read_text() == "2"
    assert job.last_error.startswith(
        "jobs: tests.always_fails raised ValueError: checksum mismatch"
    )
    assert job.finished_at is not None


@pytest.mark.django_db
def test_on_failure_is_told_the_final_reason_once(tmp_path):
    counter = tmp_path / "n"
    enqueue("tests.gives_up", counter=str(counter), message="unreadable document")
    assert runner().run_until_idle() == 2
    assert counter.read_text() == "2"  # both attempts ran, the callback only after the last
    reason = (tmp_path / "n.failure").read_text()
    assert reason.startswith("jobs: tests.gives_up raised ValueError: unreadable document")


@pytest.mark.django_db
def test_time_limit_kills_the_attempt_and_counts_it():
    job_id = enqueue("tests.sleeper", seconds=300)
    started = time.monotonic()
    assert runner().run_until_idle() == 1
    assert time.monotonic() - started < 300  # the limit ended it, not the job
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 1
    assert "timed out after 10 s" in job.last_error


@pytest.mark.django_db
def test_dedupe_key_returns_the_active_job(tmp_path):
    first = enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a")
    assert enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a") == first
    other = enqueue("tests.touch", path=str(tmp_path / "b"), dedupe_key="touch:b")
    assert other != first
    assert Job.objects.count() == 2
    Job.objects.filter(pk=first).update(status=JobStatus.SUCCEEDED)
    # finished jobs no longer hold the key
    again = enqueue("tests.touch", path=str(tmp_path / "a"), dedupe_key="touch:a")
    assert again not in (first, other)


@pytest.mark.django_db
def test_run_after_holds_the_job_back(tmp_path):
    job_id = enqueue("tests.touch", path=str(tmp_path / "later"), run_after=timedelta(hours=1))
    assert runner().run_until_idle() == 0
    assert Job.objects.get(pk=job_id).status == JobStatus.QUEUED


@pytest.mark.django_db
def test_expired_lease_on_the_last_attempt_fails_the_job(tmp_path):
    job_id = enqueue("tests.touch", path=str(tmp_path / "x"))
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING,
        attempts=1,
        locked_by="dead-worker/0",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert runner().run_until_idle() == 0
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert "worker dead-worker/0 stopped renewing its lease" in job.last_error


@pytest.mark.django_db(transaction=True)
def test_stop_interrupts_a_long_attempt_and_gives_the_attempt_back(tmp_path):
    counter, started = tmp_path / "n", tmp_path / "started"
    job_id = enqueue("tests.slow_once", counter=str(counter), started=str(started), seconds=30)
    handle = start_background_runner()
    try:
        wait_for(started.exists, "the attempt to start")
    finally:
        handle.stop(grace_seconds=0.2)
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 0
    assert "interrupted: its worker stopped it" in job.last_error


@pytest.mark.django_db(transaction=True)
def test_worker_finishes_on_sigterm_and_interrupts_on_a_second_one(tmp_path):
    counter, started = tmp_path / "n", tmp_path / "started"
    job_id = enqueue("tests.slow_once", counter=str(counter), started=str(started), seconds=30)
    states = []

    def send_signals() -> None:
        wait_for(started.exists, "the attempt to start")
        os.kill(os.getpid(), signal.SIGTERM)  # graceful: the attempt goes on
        time.sleep(0.5)
        states.append(Job.objects.get(pk=job_id).status)
        connection.close()
        os.kill(os.getpid(), signal.SIGINT)  # second signal: interrupt it

    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    sender = threading.Thread(target=send_signals)
    sender.start()
    run_worker(lease_seconds=5, poll_seconds=0.1)
    sender.join()
    assert states == [JobStatus.RUNNING]
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    assert "interrupted" in job.last_error
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_job_of_a_killed_worker_is_taken_over_by_another(tmp_path, start_worker):
    counter, started = tmp_path / "n", tmp_path / "started"
    with transaction.atomic():
        job_id = enqueue("tests.slow_once", counter=str(counter), started=str(started), seconds=60)
    first = start_worker(backend="inprocess", lease_seconds=1.5)
    wait_for(started.exists, "the first attempt to start")
    assert Job.objects.get(pk=job_id).status == JobStatus.RUNNING
    child_pid = int(started.read_text())

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    # the attempt dies with its worker instead of running on beside its retry
    wait_for(lambda: not alive(child_pid), "the orphaned attempt to die", timeout=10)

    second = start_worker(backend="inprocess", lease_seconds=1.5)
    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status=JobStatus.SUCCEEDED).first(),
        "the job to be taken over and succeed",
    )
    assert job.attempts == 2
    assert job.result == {"attempt": 2}
    assert "stopped renewing its lease" in job.last_error

    second.send_signal(signal.SIGTERM)
    assert second.wait(15) == 0
