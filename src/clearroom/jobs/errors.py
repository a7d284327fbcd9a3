"""The one error type of the jobs layer; messages read ``"jobs: <reason>"``."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class JobError(ClearroomError):
    """A job could not be declared, enqueued or run: an unknown kind, arguments that are not
    JSON, a duplicate declaration, a misconfigured backend."""


class JobAttemptFailed(JobError):
    """One attempt of a job failed (raised, exited, timed out); the message is the attempt's
    error text. Raised inside procrastinate workers so their retry strategy sees the failure."""
