"""The embedded backend's job table: one row per enqueued job, written in the caller's
transaction, claimed by runners with a lease, kept after it finishes as the record of what ran."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    kind = models.CharField(max_length=128)
    module = models.CharField(
        max_length=255, help_text="Module that declares the kind; imported by the child process."
    )
    args = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts started so far.")
    max_attempts = models.PositiveIntegerField()
    run_after = models.DateTimeField(default=timezone.now)
    locked_by = models.CharField(max_length=128, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = (
            # what a runner claims: due queued jobs, and running jobs whose lease ran out
            models.Index(
                fields=("run_after", "id"),
                name="jobs_job_due_idx",
                condition=Q(status="queued"),
            ),
            models.Index(
                fields=("lease_until",),
                name="jobs_job_lease_idx",
                condition=Q(status="running"),
            ),
            models.Index(fields=("kind", "status"), name="jobs_job_kind_status_idx"),
        )
        constraints = (
            models.UniqueConstraint(
                fields=("dedupe_key",),
                condition=Q(status__in=("queued", "running")),
                name="jobs_job_active_dedupe_key",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
