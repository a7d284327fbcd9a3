"""Read-only admin of the embedded backend's jobs, with one action: retry failed jobs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clearroom.jobs.models import Job, JobStatus


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "attempts", "max_attempts", "created_at", "short_error")
    list_filter = ("status", "kind")
    search_fields = ("kind", "dedupe_key", "last_error")
    date_hierarchy = "created_at"
    actions = ("retry",)
    readonly_fields = tuple(f.name for f in Job._meta.fields)

    @admin.display(description="last error")
    def short_error(self, job: Job) -> str:
        first = job.last_error.strip().splitlines()[0] if job.last_error.strip() else ""
        return first[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change page is view-only; the "change" permission only guards the retry action.
        return obj is None and super().has_change_permission(request)

    @admin.action(description="Retry the selected failed jobs", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = skipped = 0
        for job in queryset.filter(status=JobStatus.FAILED):
            try:
                with transaction.atomic():
                    Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
                        status=JobStatus.QUEUED,
                        attempts=0,
                        run_after=timezone.now(),
                        finished_at=None,
                    )
            except IntegrityError:  # another job with the same dedupe key is already active
                skipped += 1
                continue
            retried += 1
        if retried:
            from clearroom.jobs.inprocess import wake_runners

            transaction.on_commit(wake_runners)
        self.message_user(request, f"{retried} job(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} job(s) skipped: a job with the same dedupe key is queued or running.",
                messages.WARNING,
            )
