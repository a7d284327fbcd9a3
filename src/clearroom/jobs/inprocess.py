"""The embedded backend: jobs are rows of :class:`~clearroom.jobs.models.Job` written in the
caller's transaction, and a :class:`Runner` (background threads of the web process, or the
foreground of ``clearroom worker``) claims them with a lease, runs each attempt in a child
process and records the outcome. A job whose worker died is taken over when its lease runs
out; a restart resumes where the last process stopped."""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from clearroom.jobs import execute, registry
from clearroom.jobs.errors import JobError
from clearroom.jobs.models import ACTIVE_STATUSES, Job, JobStatus
from clearroom.jobs.registry import JobSpec

logger = logging.getLogger("clearroom.jobs")

MODULE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
JOIN_STEP_SECONDS = 0.5
MAX_ERROR_BACKOFF_SECONDS = 30.0

_wakers: set[threading.Event] = set()
_wakers_lock = threading.Lock()


def wake_runners() -> None:
    """Tell the runners of this process that a job was just committed."""
    with _wakers_lock:
        for event in _wakers:
            event.set()


def default_lease_seconds() -> float:
    """``CONFIG.jobs_lease_seconds``: how long a job stays claimed by a worker that stopped
    renewing it (killed, frozen) before another takes it over."""
    return float(settings.CONFIG.jobs_lease_seconds)


def default_poll_seconds() -> float:
    return float(settings.CONFIG.jobs_poll_seconds)


class InProcessQueue:
    """:class:`~clearroom.jobs.interfaces.JobQueue` over the ``jobs_job`` table."""

    name = "inprocess"

    def enqueue(
        self,
        spec: JobSpec,
        kwargs: dict[str, Any],
        *,
        dedupe_key: str | None,
        run_after: datetime | None,
    ) -> int:
        using = router.db_for_write(Job)
        with transaction.atomic(using=using):
            if dedupe_key is not None:
                existing = _active_with_key(dedupe_key, using)
                if existing is not None:
                    return existing
            try:
                # A savepoint: losing a dedupe race must leave the caller's transaction usable.
                with transaction.atomic(using=using):
                    job = Job.objects.using(using).create(
                        kind=spec.kind,
                        module=spec.module,
                        args=kwargs,
                        dedupe_key=dedupe_key,
                        max_attempts=spec.max_attempts,
                        run_after=run_after or timezone.now(),
                    )
            except IntegrityError:
                existing = _active_with_key(dedupe_key, using) if dedupe_key else None
                if existing is None:
                    raise
                return existing
            transaction.on_commit(wake_runners, using=using)
        return int(job.pk)

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
    ) -> Runner:
        return Runner(threads=threads, lease_seconds=lease_seconds).start()


def _active_with_key(dedupe_key: str, using: str) -> int | None:
    pk = (
        Job.objects.using(using)
        .filter(dedupe_key=dedupe_key, status__in=ACTIVE_STATUSES)
        .values_list("pk", flat=True)
        .first()
    )
    return None if pk is None else int(pk)


class Runner:
    """Claims due jobs and runs them, one attempt at a time per thread.

    ``lease_seconds``: how long a claimed job stays ours without a renewal; renewed every
    third of it while the attempt runs, so a job of a killed worker is taken over by another
    runner about ``lease_seconds`` after the kill. ``poll_seconds``: how often an idle thread
    looks for due jobs (an enqueue in this process wakes it at once)."""

    def __init__(
        self,
        *,
        threads: int = 1,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        name: str | None = None,
    ) -> None:
        self.threads = int(threads)
        self.lease_seconds = float(lease_seconds or default_lease_seconds())
        self.poll_seconds = float(poll_seconds or default_poll_seconds())
        if self.threads < 1:
            raise JobError("jobs: a runner needs at least one thread")
        if self.lease_seconds <= 0 or self.poll_seconds <= 0:
            raise JobError("jobs: lease and poll intervals must be positive numbers of seconds")
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._interrupt = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, *, burst: bool = False) -> Runner:
        """Start the threads (daemons: they never keep a process alive on their own)."""
        if self._threads:
            raise JobError("jobs: this runner was already started")
        with _wakers_lock:
            _wakers.add(self._wake)
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop,
                args=(f"{self.name}/{index}", burst),
                name=f"clearroom-jobs-{index}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        logger.info("jobs: runner %s started with %d thread(s)", self.name, self.threads)
        return self

    def is_alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def interrupt(self) -> None:
        """Kill the running attempts now; their jobs go back to the queue."""
        self._stop.set()
        self._interrupt.set()
        self._wake.set()

    def stop(self, grace_seconds: float | None = 10.0) -> None:
        """Stop claiming; let running attempts finish for up to ``grace_seconds`` (``None``:
        no limit), then interrupt them; wait for the threads to end."""
        self._stop.set()
        self._wake.set()
        deadline = None if grace_seconds is None else time.monotonic() + grace_seconds
        for thread in self._threads:
            while thread.is_alive():
                if deadline is not None and time.monotonic() >= deadline:
                    self._interrupt.set()
                thread.join(JOIN_STEP_SECONDS)
        with _wakers_lock:
            _wakers.discard(self._wake)
        logger.info("jobs: runner %s stopped", self.name)

    def run_until_idle(self, max_jobs: int | None = None) -> int:
        """Run due jobs in the calling thread until none is due; return how many attempts ran."""
        ran = 0
        worker_id = f"{self.name}/inline"
        while (max_jobs is None or ran < max_jobs) and not self._stop.is_set():
            if not self.run_one(worker_id):
                break
            ran += 1
        return ran

    # -- one thread ------------------------------------------------------------------------

    def _loop(self, worker_id: str, burst: bool) -> None:
        last_error, backoff = "", self.poll_seconds
        try:
            while not self._stop.is_set():
                try:
                    close_old_connections()
                    ran = self.run_one(worker_id)
                    last_error, backoff = "", self.poll_seconds
                except Exception as exc:
                    # The database is down, locked or not migrated: say so once with the
                    # traceback, then briefly, and back off.
                    if str(exc) != last_error:
                        logger.exception("jobs: runner %s: cannot use the job table", worker_id)
                    else:
                        logger.warning("jobs: runner %s: still failing: %s", worker_id, exc)
                    if burst:
                        break
                    last_error, backoff = str(exc), min(backoff * 2, MAX_ERROR_BACKOFF_SECONDS)
                    self._stop.wait(backoff)
                    continue
                if ran:
                    continue
                if burst:
                    break
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            connections.close_all()

    def run_one(self, worker_id: str) -> bool:
        """Claim one due job and run one attempt of it; ``False`` if no job was due."""
        job = self._claim(worker_id)
        if job is None:
            return False
        label = f"{job.kind} #{job.pk} attempt {job.attempts}/{job.max_attempts}"
        try:
            spec = _spec_for(job)
        except JobError as exc:
            outcome = execute.AttemptOutcome(ok=False, error=str(exc))
            self._record(job, worker_id, None, outcome)
            return True
        outcome = execute.run_attempt(
            spec,
            job.args,
            heartbeat=lambda: self._renew(job, worker_id),
            heartbeat_seconds=self.lease_seconds / 3,
            should_abort=self._interrupt.is_set,
            label=label,
        )
        self._record(job, worker_id, spec, outcome)
        return True

    def _claim(self, worker_id: str) -> Job | None:
        using = router.db_for_write(Job)
        connection = connections[using]
        # On SQLite the settings make this BEGIN IMMEDIATE: one claimer at a time.
        with transaction.atomic(using=using):
            while True:
                now = timezone.now()
                candidates = (
                    Job.objects.using(using)
                    .filter(
                        Q(status=JobStatus.QUEUED, run_after__lte=now)
                        | Q(status=JobStatus.RUNNING, lease_until__lt=now)
                    )
                    .order_by("run_after", "pk")
                )
                if connection.features.has_select_for_update_skip_locked:
                    candidates = candidates.select_for_update(skip_locked=True)
                job = candidates.first()
                if job is None:
                    return None
                if job.status == JobStatus.RUNNING:
                    job.last_error = (
                        f"jobs: attempt {job.attempts} of {job.max_attempts} was lost: worker"
                        f" {job.locked_by} stopped renewing its lease (killed or frozen)"
                    )
                    logger.warning("jobs: %s #%s: %s", job.kind, job.pk, job.last_error)
                    if job.attempts >= job.max_attempts:
                        job.status = JobStatus.FAILED
                        job.finished_at = now
                        job.locked_by = ""
                        job.lease_until = None
                        job.save(
                            update_fields=[
                                "status",
                                "finished_at",
                                "locked_by",
                                "lease_until",
                                "last_error",
                            ]
                        )
                        lost = registry.find(job.kind)
                        if lost is not None:
                            lost.gave_up(job.args, job.last_error)
                        continue
                job.status = JobStatus.RUNNING
                job.attempts += 1
                job.locked_by = worker_id
                job.lease_until = now + timedelta(seconds=self.lease_seconds)
                job.started_at = now
                job.save(
                    update_fields=[
                        "status",
                        "attempts",
                        "locked_by",
                        "lease_until",
                        "started_at",
                        "last_error",
                    ]
                )
                return job

    def _owned(self, job: Job, worker_id: str) -> Any:
        """The job's row, but only while this worker still holds this attempt (a fence against
        a runner that lost its lease overwriting its successor's work)."""
        return Job.objects.using(router.db_for_write(Job)).filter(
            pk=job.pk, status=JobStatus.RUNNING, locked_by=worker_id, attempts=job.attempts
        )

    def _renew(self, job: Job, worker_id: str) -> bool:
        until = timezone.now() + timedelta(seconds=self.lease_seconds)
        return bool(self._owned(job, worker_id).update(lease_until=until))

    def _record(
        self,
        job: Job,
        worker_id: str,
        spec: JobSpec | None,
        outcome: execute.AttemptOutcome,
    ) -> None:
        now = timezone.now()
        released: dict[str, Any] = {"locked_by": "", "lease_until": None}
        if outcome.ok:
            changes = {
                "status": JobStatus.SUCCEEDED,
                "result": outcome.result,
                "finished_at": now,
                **released,
            }
        elif outcome.interrupted:
            # Stopped by us, not by the job: the attempt is given back.
            changes = {
                "status": JobStatus.QUEUED,
                "attempts": F("attempts") - 1,
                "run_after": now,
                "last_error": outcome.error,
                **released,
            }
        elif job.attempts < job.max_attempts:
            backoff = (
                spec.backoff_seconds(job.attempts)
                if spec is not None
                else registry.DEFAULT_RETRY_BACKOFF_SECONDS * 2 ** (job.attempts - 1)
            )
            changes = {
                "status": JobStatus.QUEUED,
                "run_after": now + timedelta(seconds=backoff),
                "last_error": outcome.error,
                **released,
            }
        else:
            changes = {
                "status": JobStatus.FAILED,
                "last_error": outcome.error,
                "finished_at": now,
                **released,
            }
        if not self._owned(job, worker_id).update(**changes):
            logger.warning(
                "jobs: %s #%s: the lease was lost while attempt %d ran; its outcome is dropped",
                job.kind,
                job.pk,
                job.attempts,
            )
        elif changes["status"] == JobStatus.FAILED and spec is not None:
            spec.gave_up(job.args, outcome.error)


def _spec_for(job: Job) -> JobSpec:
    """The job's spec; imports the module recorded at enqueue time if this process has not
    loaded it yet (job modules outside an app's ``tasks.py``)."""
    spec = registry.find(job.kind)
    if spec is None and MODULE_PATTERN.match(job.module):
        try:
            importlib.import_module(job.module)
        except ImportError as exc:
            raise JobError(f"jobs: cannot import {job.module} for {job.kind}: {exc}") from None
        spec = registry.find(job.kind)
    return spec if spec is not None else registry.get(job.kind)


def start_background_runner(*, threads: int = 1, lease_seconds: float | None = None) -> Runner:
    """Run jobs in daemon threads of this process (``clearroom serve``); call ``stop()`` on the
    returned runner at shutdown."""
    return Runner(threads=threads, lease_seconds=lease_seconds).start()


def run_worker(
    *,
    concurrency: int = 1,
    burst: bool = False,
    lease_seconds: float | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Run jobs in the foreground until SIGTERM or SIGINT. The first signal stops claiming and
    lets running attempts finish; a second one interrupts them (their jobs go back to the
    queue). With ``burst``, return once no job is due."""
    runner = Runner(threads=concurrency, lease_seconds=lease_seconds, poll_seconds=poll_seconds)
    stop = threading.Event()
    received = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        if received == 1:
            logger.warning(
                "jobs: %s: finishing the running attempts (send it again to interrupt them)",
                signal.Signals(signum).name,
            )
            stop.set()
        else:
            runner.interrupt()

    previous: dict[signal.Signals, Any] = {}
    if not burst and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        runner.start(burst=burst)
        while runner.is_alive() and not stop.wait(JOIN_STEP_SECONDS):
            pass
        runner.stop(grace_seconds=None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
