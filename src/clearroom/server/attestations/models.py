"""Signed statements the centre accepted (DSSE envelopes) and the signing keys organisations
registered. A key's history is the key-event statements; the rows here are an index of it,
kept for fast checks — the verifier never needs them, it replays the log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.catalog.models import Release
from clearroom.server.transparency.models import LogEntry


class Attestation(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="attestations"
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="attestations"
    )
    predicate_type = models.CharField(max_length=200)
    payload_type = models.CharField(max_length=200)
    envelope = models.BinaryField(help_text="The DSSE envelope, canonical JSON.")
    envelope_sha256 = models.CharField(max_length=64, unique=True)
    signer_keyids = models.JSONField(default=list, help_text="Keys whose signatures verified.")
    log_entry = models.OneToOneField(
        LogEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="attestation"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.predicate_type} by {self.organisation.slug}"


class SigningKey(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="signing_keys"
    )
    keyid = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the DER key.")
    algorithm = models.CharField(max_length=20)
    public_key = models.TextField(help_text="PEM SubjectPublicKeyInfo.")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(Attestation, on_delete=models.PROTECT, related_name="+")
    authorised_by = models.CharField(
        max_length=64, help_text="keyid of the organisation key or centre key that introduced it."
    )
    revoked_by = models.ForeignKey(
        Attestation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organisation", "created_at"]

    def __str__(self) -> str:
        return f"{self.organisation.slug} key {self.keyid[:16]}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_by_id is not None
