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


class Preference(models.Model):
    """How a person wants to hear of one kind of notification by email (in-app is always on)."""

    class Email(models.TextChoices):
        OFF = "off", "No email"
        IMMEDIATE = "immediate", "One email each"
        DAILY = "daily", "A daily digest"

    DEFAULTS = {"mention": Email.IMMEDIATE}
    """Without a saved preference: mentions and assignments at once, the rest in the digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    email = models.CharField(max_length=10, choices=Email.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]


class Webhook(models.Model):
    """An organisation's endpoint that receives its notifications as signed JSON POSTs."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, help_text="The HMAC-SHA256 key; shown once.")
    kinds = models.JSONField(default=list, help_text="Kinds sent; empty for all.")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_status = models.CharField(max_length=200, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One notification sent (or waiting for the digest) on one channel to one target."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the digest"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    webhook = models.ForeignKey(Webhook, null=True, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices)
    error = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "state"], name="delivery_digest")]
