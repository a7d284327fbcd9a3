from __future__ import annotations

import pytest
from django.urls import reverse

from clearroom.jobs.models import Job, JobStatus


def make_job(status: str, **extra) -> Job:
    return Job.objects.create(
        kind="tests.touch",
        module="tests.jobs.sample_tasks",
        args={"path": "/tmp/x"},
        max_attempts=1,
        status=status,
        attempts=1,
        **extra,
    )


@pytest.mark.django_db
def test_changelist_shows_jobs_read_only(admin_client):
    job = make_job(JobStatus.FAILED, last_error="jobs: tests.touch raised OSError: full\n\ntb")
    page = admin_client.get(reverse("admin:jobs_job_changelist"))
    assert page.status_code == 200
    assert "jobs: tests.touch raised OSError: full" in page.content.decode()
    assert admin_client.get(reverse("admin:jobs_job_add")).status_code == 403
    detail = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


@pytest.mark.django_db
def test_retry_action_requeues_failed_jobs_only(admin_client):
    failed = make_job(JobStatus.FAILED)
    succeeded = make_job(JobStatus.SUCCEEDED)
    blocked = make_job(JobStatus.FAILED, dedupe_key="k")
    make_job(JobStatus.QUEUED, dedupe_key="k")
    response = admin_client.post(
        reverse("admin:jobs_job_changelist"),
        {"action": "retry", "_selected_action": [failed.pk, succeeded.pk, blocked.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (JobStatus.QUEUED, 0)
    succeeded.refresh_from_db()
    assert succeeded.status == JobStatus.SUCCEEDED
    blocked.refresh_from_db()
    assert blocked.status == JobStatus.FAILED
    text = response.content.decode()
    assert "1 job(s) queued again." in text
    assert "1 job(s) skipped" in text
