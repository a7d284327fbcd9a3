"""What a job backend guarantees. Callers use :func:`clearroom.jobs.enqueue` and
:func:`clearroom.jobs.run_worker`; ``settings.CONFIG.jobs_backend`` picks the implementation
(:mod:`clearroom.jobs.inprocess` or :mod:`clearroom.jobs.procrastinate_backend`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from clearroom.jobs.registry import JobSpec


class RunnerHandle(Protocol):
    """A runner working in background threads of this process."""

    def stop(self, grace_seconds: float | None = 10.0) -> None:
        """Stop claiming jobs, wait up to ``grace_seconds`` (``None``: as long as it takes)
        for running attempts, then interrupt them; an interrupted job goes back to the queue."""
        ...


class JobQueue(Protocol):
    name: str

    def enqueue(
        self,
        spec: JobSpec,
        kwargs: dict[str, Any],
        *,
        dedupe_key: str | None,
        run_after: datetime | None,
    ) -> int:
        """Record the job in the caller's current transaction and return its id. With a
        ``dedupe_key``, return the id of the queued or running job with that key if there
        is one."""
        ...

    def run_worker(
        self,
        *,
        concurrency: int = 1,
        burst: bool = False,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        """Run jobs in the foreground until SIGTERM/SIGINT (graceful: running attempts finish),
        or, with ``burst``, until no job is due."""
        ...

    def start_background_runner(
        self, *, threads: int = 1, lease_seconds: float | None = None
    ) -> RunnerHandle:
        """Run jobs in background threads of this (web) process."""
        ...
