from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation, slug_validator
from clearroom.server.transparency.models import LogEntry


class Catalogue(models.Model):
    """One published version of a control catalogue. Versions are never changed: a correction
    is a new version."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="catalogues"
    )
    slug = models.SlugField(max_length=64, validators=[slug_validator])
    version = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    uuid = models.CharField(max_length=36, help_text="The OSCAL catalog's uuid.")
    oscal_version = models.CharField(max_length=50)
    document = models.BinaryField(help_text="The OSCAL catalog JSON as published.")
    sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    log_entry = models.OneToOneField(
        LogEntry, null=True, on_delete=models.PROTECT, related_name="catalogue"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug", "version"], name="catalogue_version_unique"
            )
        ]
        ordering = ["slug", "-published_at"]

    def __str__(self) -> str:
        return f"{self.title} {self.version}"


class Control(models.Model):
    catalogue = models.ForeignKey(Catalogue, on_delete=models.CASCADE, related_name="controls")
    position = models.PositiveIntegerField()
    control_id = models.CharField(max_length=100)
    title = models.CharField(max_length=1000)
    statement = models.TextField(blank=True)
    group = models.CharField(max_length=1000, blank=True)
    parent = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "control_id"], name="control_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.control_id} {self.title}"
