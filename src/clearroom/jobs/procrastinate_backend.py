"""The scale-out backend: procrastinate on PostgreSQL. Each registered job kind is a
procrastinate task (name = kind, queue ``clearroom``) whose body runs the attempt in a child
process like the embedded backend; ``defer`` goes through procrastinate's Django connector, so
the job is written in the caller's transaction. Workers on any number of machines retry jobs
left ``doing`` by a worker that stopped sending heartbeats (killed, machine lost)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, transaction

from clearroom.jobs import execute, registry
from clearroom.jobs.errors import JobAttemptFailed, JobError
from clearroom.jobs.registry import JobSpec

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.job_context import JobContext
    from procrastinate.jobs import Job as ProcrastinateJob
    from procrastinate.retry import RetryDecision

logger = logging.getLogger("clearroom.jobs")

QUEUE = "clearroom"
DB_ALIAS = "default"

_app: App | None = None
_app_lock = threading.Lock()


def get_app() -> App:
    """The procrastinate app, with a task for every job kind registered so far."""
    global _app
    from procrastinate.contrib.django import DjangoApp
    from procrastinate.contrib.django.django_connector import DjangoConnector

    with _app_lock:
        if _app is None:
            _app = DjangoApp(connector=DjangoConnector(alias=DB_ALIAS))
        for spec in registry.all_specs():
            if spec.kind not in _app.tasks:
                _app.task(
                    name=spec.kind,
                    queue=QUEUE,
                    retry=_retry_strategy(spec.kind),
                    pass_context=True,
                )(_task_body(spec.kind))
        return _app


def _retry_strategy(kind: str) -> Any:
    from procrastinate.retry import BaseRetryStrategy, RetryDecision

    class AttemptRetry(BaseRetryStrategy):
        """Retry until ``max_attempts`` attempts ran, waiting ``retry_backoff * 2**(n-1)``
        seconds after attempt n — the same schedule as the embedded backend."""

        def get_retry_decision(
            self, *, exception: BaseException, job: ProcrastinateJob
        ) -> RetryDecision | None:
            spec = registry.find(kind)
            attempt = job.attempts + 1
            if spec is None or attempt >= spec.max_attempts:
                return None
            wait = timedelta(seconds=spec.backoff_seconds(attempt))
            return RetryDecision(retry_at=datetime.now(UTC) + wait)

    return AttemptRetry()


def _task_body(kind: str) -> Any:
    def run(context: JobContext, **kwargs: Any) -> Any:
        from procrastinate.exceptions import JobAborted

        spec = registry.get(kind)
        attempt = context.job.attempts + 1
        outcome = execute.run_attempt(
            spec,
            kwargs,
            should_abort=context.should_abort,
            label=f"{kind} #{context.job.id} attempt {attempt}/{spec.max_attempts}",
        )
        if outcome.interrupted:
            raise JobAborted(outcome.error)
        if not outcome.ok:
            if attempt >= spec.max_attempts:
                spec.gave_up(kwargs, outcome.error)
            raise JobAttemptFailed(outcome.error)
        return outcome.result

    run.__name__ = run.__qualname__ = "run_" + kind.replace(".", "_")
    return run


class ProcrastinateQueue:
    """:class:`~clearroom.jobs.interfaces.JobQueue` over procrastinate."""

    name = "procrastinate"

    def enqueue(
        self,
        spec: JobSpec,
        kwargs: dict[str, Any],
        *,
        dedupe_key: str | None,
        run_after: datetime | None,
    ) -> int:
        from procrastinate.exceptions import AlreadyEnqueued

        task = get_app().tasks[spec.kind]
        options: dict[str, Any] = {}
        if dedupe_key is not None:
            options["queueing_lock"] = dedupe_key
        if run_after is not None:
            options["schedule_at"] = run_after
        with transaction.atomic(using=DB_ALIAS):
            if dedupe_key is not None:
                existing = _active_with_key(dedupe_key)
                if existing is not None:
                    return existing
            try:
                # A savepoint: a queueing-lock clash must leave the caller's transaction usable.
                with transaction.atomic(using=DB_ALIAS):
                    return int(task.configure(**options).defer(**kwargs))
            except AlreadyEnqueued:
                existing = _active_with_key(dedupe_key) if dedupe_key else None
                if existing is None:
                    raise JobError(
                        f"jobs: {spec.kind}: a job with dedupe key {dedupe_key!r} is already queued"
                    ) from None
                return existing

    def run_worker(
        self,
        *,
        concurrency: int = 1,
        burst: bool = False,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        run_worker(
            concurrency=concurrency,
            burst=burst,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
        )

    def start_background_runner(
        self, *, threads: int = 1, lease_seconds: float | None = None
    ) -> _NoRunner:
        logger.info(
            "jobs: the procrastinate backend runs jobs in `clearroom worker` processes;"
            " no runner is started in this process"
        )
        return _NoRunner()


class _NoRunner:
    def stop(self, grace_seconds: float | None = 10.0) -> None:
        return None


def _active_with_key(dedupe_key: str) -> int | None:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT id FROM procrastinate_jobs WHERE queueing_lock = %s"
            " AND status IN ('todo', 'doing') ORDER BY id LIMIT 1",
            [dedupe_key],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def run_worker(
    *,
    concurrency: int = 1,
    burst: bool = False,
    lease_seconds: float | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Run a procrastinate worker on the ``clearroom`` queue in the foreground until
    SIGTERM/SIGINT (graceful), or with ``burst`` until no job is due. ``lease_seconds`` is the
    stalled-worker timeout: heartbeats every third of it; the jobs of a worker silent for
    longer are retried (or failed, if that was their last attempt) at start and every half of
    it."""
    lease = float(lease_seconds or settings.CONFIG.jobs_lease_seconds)
    poll = float(poll_seconds or settings.CONFIG.jobs_poll_seconds)
    if concurrency < 1 or lease <= 0 or poll <= 0:
        raise JobError("jobs: concurrency, lease and poll interval must be positive")
    app = get_app()
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "name": f"clearroom-{socket.gethostname()}-{os.getpid()}",
        "concurrency": concurrency,
        "wait": not burst,
        "listen_notify": not burst,
        "fetch_job_polling_interval": poll,
        "abort_job_polling_interval": poll,
        "update_heartbeat_interval": lease / 3,
        "stalled_worker_timeout": lease,
        "install_signal_handlers": (
            not burst and threading.current_thread() is threading.main_thread()
        ),
    }
    worker_connector = app.connector.get_worker_connector()  # type: ignore[attr-defined]
    with app.replace_connector(worker_connector):
        asyncio.run(_serve(app, options, lease))


async def _serve(app: App, options: dict[str, Any], stalled_seconds: float) -> None:
    async with app.open_async():
        await recover_stalled_jobs(app, stalled_seconds=stalled_seconds)
        recovery = asyncio.create_task(_recover_periodically(app, stalled_seconds))
        try:
            await app.run_worker_async(**options)
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery


async def _recover_periodically(app: App, stalled_seconds: float) -> None:
    while True:
        await asyncio.sleep(max(stalled_seconds / 2, 0.5))
        try:
            await recover_stalled_jobs(app, stalled_seconds=stalled_seconds)
        except Exception:
            logger.exception("jobs: could not recover stalled jobs")


def recover_stalled(*, stalled_seconds: float | None = None) -> int:
    """Run one stalled-job recovery pass now (what workers do at start and periodically)."""
    configured = float(settings.CONFIG.jobs_lease_seconds)
    app = get_app()

    async def once() -> int:
        async with app.open_async():
            return await recover_stalled_jobs(app, stalled_seconds=stalled_seconds or configured)

    with app.replace_connector(app.connector.get_worker_connector()):  # type: ignore[attr-defined]
        return asyncio.run(once())


async def recover_stalled_jobs(app: App, *, stalled_seconds: float) -> int:
    """Retry the ``doing`` jobs of workers whose last heartbeat is older than
    ``stalled_seconds``; fail those whose lost attempt was their last. Returns how many."""
    from procrastinate.exceptions import ConnectorException
    from procrastinate.jobs import Status

    manager = app.job_manager
    await manager.prune_stalled_workers(stalled_seconds)
    stalled = await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_seconds)
    recovered = 0
    for job in stalled:
        assert job.id is not None
        spec = registry.find(job.task_name)
        attempt = job.attempts + 1
        last = spec is not None and attempt >= spec.max_attempts
        logger.warning(
            "jobs: %s #%s: attempt %d was lost (its worker stopped sending heartbeats); %s",
            job.task_name,
            job.id,
            attempt,
            "no attempt left, failing it" if last else "retrying it",
        )
        try:
            if last:
                await manager.finish_job_by_id_async(
                    job_id=job.id, status=Status.FAILED, delete_job=False
                )
                assert spec is not None
                error = f"jobs: {job.task_name} attempt {attempt} was lost (no heartbeat)"
                await asyncio.to_thread(spec.gave_up, dict(job.task_kwargs), error)
            else:
                await manager.retry_job(job, retry_at=datetime.now(UTC))
        except ConnectorException:  # another worker recovered it between our read and write
            logger.info("jobs: %s #%s was recovered by another worker", job.task_name, job.id)
            continue
        recovered += 1
    return recovered
