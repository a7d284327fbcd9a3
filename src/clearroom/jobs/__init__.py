"""Verification jobs: one function per job kind, enqueued in the same transaction as the
domain write, run in a child process with a hard time limit, retried with exponential backoff,
by an embedded runner (jobs persisted in the database) or by procrastinate workers on
PostgreSQL — ``settings.CONFIG.jobs_backend`` chooses.

Example::

    # myapp/tasks.py — found by autodiscovery when Django starts
    from clearroom.jobs import job

    @job("catalog.sha512", max_attempts=3, timeout=3600)
    def compute_sha512(*, model: str, pk: int) -> dict | None:
        ...  # keyword arguments, JSON values; must be idempotent

    # in a service, inside the domain write's transaction
    from django.db import transaction
    from clearroom.jobs import enqueue

    with transaction.atomic():
        artifact = Artifact.objects.create(...)
        enqueue("catalog.sha512", model="artifact", pk=artifact.pk,
                dedupe_key=f"sha512:artifact:{artifact.pk}")

    # `clearroom serve` (embedded backend): runner = start_background_runner(); runner.stop()
    # `clearroom worker`: run_worker(concurrency=2)
"""

from clearroom.jobs.errors import JobAttemptFailed, JobError
from clearroom.jobs.interfaces import JobQueue, RunnerHandle
from clearroom.jobs.queue import backend, enqueue, run_worker, start_background_runner
from clearroom.jobs.registry import JobSpec, get, job

__all__ = [
    "JobAttemptFailed",
    "JobError",
    "JobQueue",
    "JobSpec",
    "RunnerHandle",
    "backend",
    "enqueue",
    "get",
    "job",
    "run_worker",
    "start_background_runner",
]
