"""What the centre tells people: a notification goes to an organisation's inbox (everyone in it
sees it) or to one person (an assignment, a mention)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.catalog.models import Release


class Notification(models.Model):
    class Kind(models.TextChoices):
        VULNERABILITY = "vulnerability", "New vulnerability findings"
        EVALUATION = "evaluation", "Evaluations"
        FINDING = "finding", "Findings"
        THREAD = "thread", "Questions and answers"
        MENTION = "mention", "Mentions and assignments"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    url = models.CharField(max_length=500, blank=True)
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organisation__isnull=False) | models.Q(user__isnull=False),
                name="notification_has_a_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.text
