"""Where parties work together on a release: evaluations against a standard, findings with
their status workflow, and threads between any party and the vendor's experts.

Every object here belongs to two parties - the vendor and a counterpart (the evaluator, the
organisation that raised a finding or asked a question) - and only their members see it. Its
public handle is ``ref`` (a random UUID), so ids cannot be guessed or counted."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.catalog.models import AccessGrant, Product, Release

MAX_MESSAGE_CHARS = 20_000


class Evaluation(models.Model):
    """An evaluator organisation's evaluation of a release against a standard."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted: in progress"
        DECLINED = "declined", "Declined by the vendor"
        REPORTED = "reported", "Reported: signed report logged"

    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="security_evaluations"
    )
    evaluator = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="evaluations_made"
    )
    standard = models.CharField(max_length=200, help_text="e.g. ETSI EN 303 645 v2.1.1")
    catalogue = models.ForeignKey(
        "standards.Catalogue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluations",
        help_text="The published catalogue version evaluated against; its control ids are then"
        " the only requirements verdicts may name.",
    )
    scope = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    grant = models.OneToOneField(
        AccessGrant, null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluation"
    )
    report = models.ForeignKey(
        "attestations.Attestation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    result = models.CharField(max_length=20, blank=True, help_text="The report's verdict.")
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.evaluator} evaluates {self.release} against {self.standard}"

    @property
    def vendor(self) -> Organisation:
        return self.release.product.vendor


class CheckResult(models.Model):
    """An automated check's outcome, attached to an evaluation when it is accepted and run again
    whenever a fact it reads changes (or the evaluator asks): what the centre knows now, with
    the moment it was checked."""

    class Outcome(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        INFO = "info", "Information"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="checks")
    check_id = models.CharField(max_length=100, help_text="e.g. sbom-quality")
    title = models.CharField(max_length=200)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict)
    checked_at = models.DateTimeField(default=timezone.now, help_text="When it last ran.")

    class Meta:
        ordering = ["check_id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "check_id"], name="one_result_per_check")
        ]


class Verdict(models.Model):
    """The evaluator's verdict on one requirement of the standard."""

    class Value(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="verdicts")
    requirement = models.CharField(max_length=100, help_text="e.g. 5.1-1")
    value = models.CharField(max_length=20, choices=Value.choices)
    rationale = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["requirement"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "requirement"], name="one_verdict_per_requirement"
            )
        ]


class Thread(models.Model):
    """A conversation between a counterpart organisation and the vendor's experts: a question
    about a product or release, or the discussion of a finding."""

    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="threads")
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="threads"
    )
    counterpart = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="threads_opened"
    )
    subject = models.CharField(max_length=200)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject

    @property
    def vendor(self) -> Organisation:
        return self.product.vendor


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_organisation = models.ForeignKey(
        Organisation, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=MAX_MESSAGE_CHARS)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class Attachment(models.Model):
    """A file attached to a message, in the artifact store; seen by the thread's parties."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)


class ReviewFinding(models.Model):
    """A finding a party raised about a release - from an evaluation, an automated check or a
    person - with the workflow the vendor and the raising party take it through."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"
        INFO = "info", "Informational"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FIX_PLANNED = "fix_planned", "Fix planned"
        FIXED = "fixed", "Fixed"
        VERIFIED = "verified", "Verified fixed"
        DISPUTED = "disputed", "Disputed"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"

    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="review_findings")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )
    raised_by = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="findings_raised"
    )
    source = models.CharField(max_length=20, default="person", help_text="person or check:<id>")
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    justification = models.TextField(blank=True, help_text="Why disputed or risk accepted.")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thread = models.OneToOneField(Thread, on_delete=models.PROTECT, related_name="finding")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def vendor(self) -> Organisation:
        return self.release.product.vendor


class StatusChange(models.Model):
    """The history of a finding's status: who moved it, when, why."""

    finding = models.ForeignKey(ReviewFinding, on_delete=models.CASCADE, related_name="history")
    before = models.CharField(max_length=20)
    after = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_organisation = models.ForeignKey(
        Organisation, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    log_entry = models.ForeignKey(
        "transparency.LogEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
