"""What a release contains (from its SBOM) and which advisories affect it, over time.

Findings are upserted per (release, component, advisory) by each evaluation, so a finding keeps
its history: when it was first seen, which advisory snapshot saw it last, and when it stopped
applying. Each evaluation also records its counts, which is what "open vulnerabilities over
time" is drawn from. Rows are bounded by what releases contain; nothing is kept per request.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.catalog.models import Document, Product, Release


class ReleaseSbom(models.Model):
    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="parsed")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="sboms")
    format = models.CharField(max_length=20, blank=True)
    spec_version = models.CharField(max_length=20, blank=True)
    components = models.PositiveIntegerField(default=0)
    quality = models.JSONField(default=dict, help_text="NTIA and BSI TR-03183-2 reports.")
    warnings = models.JSONField(default=list)
    validation = models.JSONField(
        default=dict, help_text="Strict schema report (informative; never a gate)."
    )
    error = models.TextField(blank=True, help_text="Why the document could not be read.")
    parsed_at = models.DateTimeField(default=timezone.now)


class Component(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="components")
    sbom = models.ForeignKey(ReleaseSbom, on_delete=models.CASCADE, related_name="rows")
    ref = models.CharField(max_length=1000)
    name = models.CharField(max_length=500)
    version = models.CharField(max_length=200, blank=True)
    purl = models.CharField(max_length=1000, blank=True)
    ecosystem = models.CharField(max_length=50, blank=True, db_index=True)
    package = models.CharField(
        max_length=500, blank=True, help_text="Name normalised for the ecosystem (PEP 503, …)."
    )
    licences = models.JSONField(default=list)
    supplier = models.CharField(max_length=500, blank=True)
    paths = models.JSONField(default=list, help_text="Dependency paths that pull it in.")

    class Meta:
        ordering = ["name", "version"]
        indexes = [models.Index(fields=["ecosystem", "package"], name="component_package")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Finding(models.Model):
    class Status(models.TextChoices):
        AFFECTED = "affected", "Affected"
        UNKNOWN = "unknown", "Unknown"
        NOT_AFFECTED = "not_affected", "Not affected (VEX)"
        FIXED = "fixed", "Fixed (VEX)"
        UNDER_INVESTIGATION = "under_investigation", "Under investigation (VEX)"

    OPEN = (Status.AFFECTED, Status.UNKNOWN, Status.UNDER_INVESTIGATION)

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="findings")
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="findings")
    advisory_id = models.CharField(max_length=200)
    aliases = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    rating = models.CharField(max_length=20, default="unknown")
    vector = models.CharField(max_length=300, blank=True)
    fixed_versions = models.JSONField(default=list)
    match_status = models.CharField(max_length=20, help_text="affected or unknown, before VEX.")
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=30,
        choices=Status.choices,
        help_text="After the VEX everyone may read (public documents, signed statements).",
    )
    vex = models.JSONField(
        null=True, blank=True, help_text="The VEX statement everyone may read that decided."
    )
    full_status = models.CharField(
        max_length=30,
        choices=Status.choices,
        blank=True,
        help_text="After every VEX document, confidential ones too: for their readers only.",
    )
    full_vex = models.JSONField(
        null=True, blank=True, help_text="The statement that decided among every VEX document."
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="When it stopped matching (new advisory data, new SBOM)."
    )
    snapshot = models.CharField(max_length=80, help_text="Advisory snapshot that saw it last.")

    class Meta:
        ordering = ["-score", "advisory_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "component", "advisory_id"], name="finding_unique"
            )
        ]

    @property
    def is_open(self) -> bool:
        """Open as everyone may see it (public VEX only)."""
        return self.resolved_at is None and self.status in self.OPEN


class Evaluation(models.Model):
    """One evaluation of a release: when, against which advisory data, and the open counts."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="evaluations")
    at = models.DateTimeField(default=timezone.now)
    snapshot = models.CharField(max_length=80)
    open_by_severity = models.JSONField(
        default=dict, help_text="Every SBOM and VEX document: for those who read them all."
    )
    public_open_by_severity = models.JSONField(
        null=True, blank=True, help_text="Public SBOMs, public VEX: for everyone else."
    )
    new_findings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at"]


class Follow(models.Model):
    """An organisation (a customer, a regulator) follows a product's security."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="follows")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "product"], name="follow_unique")
        ]
