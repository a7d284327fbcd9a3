"""What vendors publish: products, their releases, and the artifacts and documents of a release."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation, slug_validator


class Product(models.Model):
    class Category(models.TextChoices):
        NETWORK = "network", "Network equipment / 5G"
        IOT = "iot", "IoT device"
        CLOUD = "cloud", "Cloud service"
        SOFTWARE = "software", "Software"

    vendor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="products")
    slug = models.SlugField(max_length=64, validators=[slug_validator])
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["vendor__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "slug"], name="product_slug_unique_per_vendor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vendor.name} {self.name}"


class Release(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=100)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    support_until = models.DateField(
        null=True, blank=True, help_text="End of the security support period."
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["product", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="release_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.version}"

    @property
    def is_public(self) -> bool:
        return self.state != self.State.DRAFT


class Confidentiality(models.TextChoices):
    PUBLIC = "public", "Public"
    CONFIDENTIAL = "confidential", "Confidential"


class StoredFile(models.Model):
    """Bytes in the artifact store, named within a release. SHA-256 is the store's address and
    is known when the upload ends; SHA-512 is computed afterwards by a job."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT)
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    sha512 = models.CharField(max_length=128, blank=True)
    confidentiality = models.CharField(
        max_length=20, choices=Confidentiality.choices, default=Confidentiality.PUBLIC
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_confidential(self) -> bool:
        return self.confidentiality == Confidentiality.CONFIDENTIAL


class Artifact(StoredFile):
    """Something the vendor ships: a firmware image, a binary, a source archive."""

    class Meta(StoredFile.Meta):
        default_related_name = "artifacts"
        constraints = [
            models.UniqueConstraint(fields=["release", "name"], name="artifact_name_unique")
        ]


class Document(StoredFile):
    """A statement about a release: an SBOM, VEX, build provenance, a test report."""

    class Kind(models.TextChoices):
        SBOM = "sbom", "SBOM"
        VEX = "vex", "VEX"
        PROVENANCE = "provenance", "Build provenance"
        TEST_REPORT = "test_report", "Test report"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta(StoredFile.Meta):
        default_related_name = "documents"
        constraints = [
            models.UniqueConstraint(fields=["release", "name"], name="document_name_unique")
        ]


class AccessGrant(models.Model):
    """A vendor lets another organisation (an evaluator, a customer) see a product's
    confidential material - or, with ``release``, one release's - until ``expires_at`` or
    revocation. Access ends at that instant: every read compares with the time of the read."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="grants")
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    grantee = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.grantee} may see {self.release or self.product}"
