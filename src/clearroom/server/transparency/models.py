"""The log's outbox: a fact is written here in the same transaction as the change it states, and
the log's single writer gives it an index afterwards. So a fact is never logged for a change
that rolled back, and never lost for one that committed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clearroom.server.catalog.models import Artifact, Document, Release


class LogEntry(models.Model):
    fact = models.CharField(
        max_length=64, help_text="The entry type, e.g. clearroom.dev/release/v1."
    )
    fact_id = models.UUIDField(unique=True, editable=False)
    entry = models.BinaryField(help_text="The exact bytes in the log (canonical JSON).")
    entry_sha256 = models.CharField(max_length=64, db_index=True)
    leaf_hash = models.CharField(
        max_length=64, db_index=True, help_text="RFC 6962 leaf hash: SHA-256(0x00 ‖ entry)."
    )
    index = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="Position in the log; empty until sequenced."
    )
    release = models.ForeignKey(
        Release, null=True, on_delete=models.PROTECT, related_name="log_entries"
    )
    artifact = models.ForeignKey(
        Artifact, null=True, on_delete=models.PROTECT, related_name="log_entries"
    )
    document = models.ForeignKey(
        Document, null=True, on_delete=models.PROTECT, related_name="log_entries"
    )
    subject_sha256 = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The SHA-256 of the file it is about."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sequenced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "log entries"
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(index__isnull=True), name="logentry_pending"
            )
        ]

    def __str__(self) -> str:
        where = "pending" if self.index is None else f"#{self.index}"
        return f"{self.fact} {where}"
