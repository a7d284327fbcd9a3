"""The job registry: one function per job kind, declared with ``@job`` in an app's ``tasks``
module (found by :class:`clearroom.jobs.apps.JobsConfig`), looked up by kind with :func:`get`."""

from __future__ import annotations

import inspect
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from clearroom.jobs.errors import JobError

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("clearroom.jobs")

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_KIND_LENGTH = 128
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT_SECONDS = 3600.0
DEFAULT_RETRY_BACKOFF_SECONDS = 10.0
RESERVED_ARGUMENTS = frozenset({"kind", "dedupe_key", "run_after"})
"""Taken by :func:`clearroom.jobs.enqueue` itself, so a job function cannot receive them."""


@dataclass(frozen=True)
class JobSpec:
    """What the runners need to know about one job kind.

    ``max_attempts`` counts every attempt, the first included; attempt ``n`` that fails is retried
    ``retry_backoff_seconds * 2 ** (n - 1)`` seconds later; an attempt still running after
    ``timeout_seconds`` is killed. ``on_failure`` is called in the worker, as
    ``on_failure(error=..., **arguments)``, once the last attempt has failed (raised, timed out,
    crashed or was lost), so a job can record why its work was not done."""

    kind: str
    func: Callable[..., Any]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry_backoff_seconds: float = DEFAULT_RETRY_BACKOFF_SECONDS
    on_failure: Callable[..., Any] | None = None

    def validate(self) -> JobSpec:
        if len(self.kind) > MAX_KIND_LENGTH or not KIND_PATTERN.match(self.kind):
            raise JobError(
                f"jobs: job kind {self.kind!r} must be dotted lower-case words such as"
                f" 'catalog.sha512', at most {MAX_KIND_LENGTH} characters"
            )
        if not callable(self.func):
            raise JobError(f"jobs: {self.kind} must be declared on a function")
        if self.max_attempts < 1:
            raise JobError(f"jobs: {self.kind}: max_attempts must be at least 1")
        if self.timeout_seconds <= 0:
            raise JobError(f"jobs: {self.kind}: timeout must be a positive number of seconds")
        if self.retry_backoff_seconds < 0:
            raise JobError(f"jobs: {self.kind}: retry_backoff must not be negative")
        parameters = inspect.signature(self.func).parameters
        reserved = sorted(RESERVED_ARGUMENTS & set(parameters))
        if reserved:
            raise JobError(
                f"jobs: {self.kind}: {', '.join(reserved)} cannot be a job argument"
                " (enqueue() takes it); rename the parameter"
            )
        positional = [
            p.name
            for p in parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_ONLY and p.default is inspect.Parameter.empty
        ]
        if positional:
            raise JobError(
                f"jobs: {self.kind}: job functions take keyword arguments only;"
                f" {', '.join(positional)} is positional-only"
            )
        return self

    @property
    def module(self) -> str:
        """The module a child process imports to find the function again."""
        return str(self.func.__module__)

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.func.__qualname__}"

    def backoff_seconds(self, attempt: int) -> float:
        """The wait before retrying after attempt number ``attempt`` (1-based) failed."""
        return float(self.retry_backoff_seconds * 2 ** max(attempt - 1, 0))

    def gave_up(self, kwargs: dict[str, Any], error: str) -> None:
        """Tell the job's ``on_failure`` that its last attempt failed with ``error``; a failing
        callback is logged, never raised into the runner."""
        if self.on_failure is None:
            return
        try:
            self.on_failure(error=error, **kwargs)
        except Exception:
            logger.exception("jobs: %s: on_failure could not record the failure", self.kind)

    def check_arguments(self, kwargs: dict[str, Any]) -> None:
        """Fail now, in the caller, if the function could not be called with ``kwargs``."""
        try:
            inspect.signature(self.func).bind(**kwargs)
        except TypeError as exc:
            raise JobError(
                f"jobs: {self.kind} cannot be called with these arguments: {exc}"
            ) from None


_registry: dict[str, JobSpec] = {}
_lock = threading.Lock()


def job(
    kind: str,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF_SECONDS,
    on_failure: Callable[..., Any] | None = None,
) -> Callable[[F], F]:
    """Declare ``func`` as the one function of job kind ``kind``. The function takes keyword
    arguments that are JSON values, returns a JSON value (or ``None``) and must be idempotent:
    an attempt may run again after a worker dies. The function itself is returned unchanged."""

    def register(func: F) -> F:
        spec = JobSpec(
            kind=kind,
            func=func,
            max_attempts=max_attempts,
            timeout_seconds=float(timeout),
            retry_backoff_seconds=float(retry_backoff),
            on_failure=on_failure,
        ).validate()
        with _lock:
            existing = _registry.get(kind)
            # The same function seen again (a module imported twice) is not a conflict.
            if existing is not None and existing.qualname != spec.qualname:
                raise JobError(
                    f"jobs: job kind {kind!r} is declared twice: by {existing.qualname} and by"
                    f" {spec.qualname}; each kind has exactly one function"
                )
            _registry[kind] = spec
        return func

    return register


def get(kind: str) -> JobSpec:
    """The spec of ``kind``, or a :class:`JobError` naming the kinds that exist."""
    try:
        return _registry[kind]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise JobError(
            f"jobs: unknown job kind {kind!r}; declare it with @job in an app's tasks.py"
            f" (registered kinds: {known})"
        ) from None


def find(kind: str) -> JobSpec | None:
    return _registry.get(kind)


def all_specs() -> tuple[JobSpec, ...]:
    with _lock:
        return tuple(_registry.values())
