from __future__ import annotations

import datetime

import pytest

from clearroom.jobs import JobError, JobSpec, enqueue, get, job
from clearroom.jobs.models import Job


def test_job_registers_a_spec_with_its_limits():
    spec = get("tests.flaky")
    assert spec == JobSpec(
        kind="tests.flaky",
        func=spec.func,
        max_attempts=3,
        timeout_seconds=30.0,
        retry_backoff_seconds=0.0,
    )
    assert spec.module == "tests.jobs.sample_tasks"


def test_second_function_for_the_same_kind_is_refused():
    with pytest.raises(JobError, match="declared twice"):

        @job("tests.touch")
        def another_touch(*, path: str) -> None: ...


def test_bad_declarations_are_refused():
    with pytest.raises(JobError, match="dotted lower-case"):
        job("Not A Kind")(lambda: None)
    with pytest.raises(JobError, match="max_attempts"):
        job("tests.never", max_attempts=0)(lambda: None)
    with pytest.raises(JobError, match="timeout"):
        job("tests.never", timeout=0)(lambda: None)
    with pytest.raises(JobError, match="dedupe_key cannot be a job argument"):
        job("tests.never")(lambda *, dedupe_key: None)


def test_backoff_doubles_per_attempt():
    spec = JobSpec(kind="x.y", func=print, retry_backoff_seconds=5)
    assert [spec.backoff_seconds(n) for n in (1, 2, 3)] == [5, 10, 20]


@pytest.mark.django_db
def test_unknown_kind_is_a_job_error(inprocess):
    with pytest.raises(JobError, match=r"^jobs: unknown job kind 'tests\.nope'.*tests\.touch"):
        enqueue("tests.nope", path="/tmp/x")
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "not JSON-serialisable"),
        (datetime.date(2026, 1, 1), "not JSON-serialisable"),
        (float("nan"), "not JSON-serialisable"),
        ((1, 2), "round trip"),
        ({1: "a"}, "round trip"),
    ],
)
def test_arguments_must_survive_json(inprocess, value, message):
    with pytest.raises(JobError, match=f"^jobs: argument 'text' of tests.touch .*{message}"):
        enqueue("tests.touch", path="/tmp/x", text=value)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_arguments_must_fit_the_function(inprocess):
    with pytest.raises(JobError, match="cannot be called with these arguments"):
        enqueue("tests.touch", wrong="x")


@pytest.mark.django_db
def test_run_after_must_be_aware(inprocess):
    with pytest.raises(JobError, match="timezone-aware"):
        enqueue("tests.touch", path="/tmp/x", run_after=datetime.datetime(2030, 1, 1))  # noqa: DTZ001
