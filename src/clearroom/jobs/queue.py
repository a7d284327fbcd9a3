"""The front door of the jobs layer: :func:`enqueue` checks a job and hands it to the backend
that ``settings.CONFIG.jobs_backend`` names; :func:`run_worker` and
:func:`start_background_runner` start that backend's workers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from clearroom.jobs import registry
from clearroom.jobs.errors import JobError
from clearroom.jobs.interfaces import JobQueue, RunnerHandle

MAX_DEDUPE_KEY_LENGTH = 255
MAX_ARGUMENTS_BYTES = 64 * 1024
"""Job arguments name things (a model and a primary key, a digest); data goes in the blob store."""


def backend() -> JobQueue:
    """The backend the configuration names."""
    name = settings.CONFIG.jobs_backend
    if name == "inprocess":
        from clearroom.jobs.inprocess import InProcessQueue

        return InProcessQueue()
    if name == "procrastinate":
        from clearroom.jobs.procrastinate_backend import ProcrastinateQueue

        return ProcrastinateQueue()
    raise JobError(f"jobs: unknown jobs_backend {name!r}; use 'inprocess' or 'procrastinate'")


def enqueue(
    kind: str,
    *,
    dedupe_key: str | None = None,
    run_after: datetime | timedelta | None = None,
    **kwargs: Any,
) -> int:
    """Enqueue a job of ``kind`` with keyword arguments ``kwargs`` and return its id.

    Call it inside the ``transaction.atomic()`` of the domain write: the job exists if and
    only if that transaction commits. With ``dedupe_key`` (global: put the kind in it), the id
    of a queued or running job with the same key is returned instead of adding another one.
    ``run_after`` (an aware datetime, or a delay) holds the job back until then."""
    spec = registry.get(kind)
    _check_arguments(kind, kwargs)
    spec.check_arguments(kwargs)
    if dedupe_key is not None and (
        not isinstance(dedupe_key, str) or not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY_LENGTH
    ):
        raise JobError(
            f"jobs: dedupe_key must be a non-empty string of at most {MAX_DEDUPE_KEY_LENGTH}"
            f" characters, not {dedupe_key!r}"
        )
    return backend().enqueue(spec, kwargs, dedupe_key=dedupe_key, run_after=_when(kind, run_after))


def _check_arguments(kind: str, kwargs: dict[str, Any]) -> None:
    for name, value in kwargs.items():
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JobError(
                f"jobs: argument {name!r} of {kind} is not JSON-serialisable ({exc});"
                " pass strings, numbers, booleans, None, lists and dicts"
            ) from None
        if json.loads(text) != value:
            raise JobError(
                f"jobs: argument {name!r} of {kind} would change in a JSON round trip (tuples"
                " become lists, dict keys become strings); pass plain lists and string keys"
            )
    size = len(json.dumps(kwargs))
    if size > MAX_ARGUMENTS_BYTES:
        raise JobError(
            f"jobs: the arguments of {kind} are {size} bytes of JSON, more than"
            f" {MAX_ARGUMENTS_BYTES}; pass a reference (a primary key, a digest) instead"
        )


def _when(kind: str, run_after: datetime | timedelta | None) -> datetime | None:
    if run_after is None:
        return None
    if isinstance(run_after, timedelta):
        return timezone.now() + run_after
    if isinstance(run_after, datetime):
        if timezone.is_naive(run_after):
            raise JobError(f"jobs: run_after of {kind} must be a timezone-aware datetime")
        return run_after
    raise JobError(f"jobs: run_after of {kind} must be a datetime or a timedelta")


def run_worker(
    concurrency: int = 1,
    *,
    burst: bool = False,
    lease_seconds: float | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Work in the foreground with the configured backend until SIGTERM/SIGINT (``clearroom
    worker``); the first signal lets running attempts finish."""
    backend().run_worker(
        concurrency=concurrency,
        burst=burst,
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
    )


def start_background_runner(
    threads: int = 1, *, lease_seconds: float | None = None
) -> RunnerHandle:
    """Run jobs in background threads of this process (``clearroom serve`` with the embedded
    backend; a no-op handle with procrastinate, whose workers run apart). Call ``stop()`` on
    the handle at shutdown."""
    return backend().start_background_runner(threads=threads, lease_seconds=lease_seconds)
