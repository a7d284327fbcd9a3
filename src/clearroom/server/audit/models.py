"""An append-only record of who did or tried what: every confidential access, every denial,
sealed in batches whose Merkle roots are facts in the transparency log (see :mod:`.chain`)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditBatch(models.Model):
    """Records ``first``..``last`` (``count`` of them) sealed under ``root``; logged as
    ``log_entry``."""

    sequence = models.PositiveIntegerField(unique=True)
    count = models.PositiveIntegerField()
    first = models.BigIntegerField()
    last = models.BigIntegerField()
    root = models.CharField(max_length=64)
    previous = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(default=timezone.now)
    log_entry = models.OneToOneField(
        "transparency.LogEntry", on_delete=models.PROTECT, related_name="audit_batch"
    )

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"audit batch {self.sequence} ({self.count} records)"


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    time = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    action = models.CharField(max_length=100, help_text="<scope>:<resource>:<action>.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The username, kept.")
    token_key_id = models.CharField(max_length=16, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose material this is about.",
    )
    organisation_slug = models.CharField(max_length=64, blank=True)
    actor_organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The organisation the actor acted for.",
    )
    actor_organisation_slug = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=500)
    ip = models.GenericIPAddressField(null=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)
    batch = models.ForeignKey(
        AuditBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        ordering = ["-time"]
        indexes = [
            models.Index(fields=["organisation", "-id"], name="audit_by_material_owner"),
            models.Index(fields=["actor_organisation", "-id"], name="audit_by_actor_org"),
            models.Index(
                fields=["id"], condition=models.Q(batch__isnull=True), name="audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome} {self.target}"

    def canonical(self) -> dict[str, Any]:
        """The record as :mod:`.chain` seals it: only what never changes after writing."""
        return {
            "id": self.pk,
            "time": self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "action": self.action,
            "outcome": self.outcome,
            "actor": self.actor_name,
            "token": self.token_key_id,
            "organisation": self.organisation_slug,
            "actor_organisation": self.actor_organisation_slug,
            "target": self.target,
            "ip": self.ip or "",
            "request_id": self.request_id,
            "details": self.details,
        }
