"""The centre's signed release status (:mod:`clearroom.attest.predicates.status`): signed with
the centre's key and logged when a release is published, at once when it is withdrawn (in the
transaction that changes it), and again every ``release_status_refresh_seconds`` by the log's
writer, so every bundle carries a status recent enough for a verifier's ``max_status_age``.
Only releases with a signed statement get one: the others have no bundle to verify.

Why the log's writer refreshes: exactly one process holds the log, so exactly one refreshes,
and a refresh that fails (a token away) is retried there without stopping the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from clearroom.attest.dsse import Envelope, add_signature
from clearroom.attest.entries import envelope_sha256
from clearroom.attest.predicates import KEY_EVENT, RELEASE_STATUS, ReleaseStatus
from clearroom.attest.statement import PAYLOAD_TYPE
from clearroom.server.attestations.centre import centre_signer
from clearroom.server.attestations.models import Attestation
from clearroom.server.attestations.services import log_statement
from clearroom.server.catalog.models import Release
from clearroom.server.errors import Unavailable
from clearroom.server.transparency import services as log
from clearroom.server.transparency.models import LogEntry

_log = logging.getLogger(__name__)
REFRESH_BATCH = 200
"""Releases re-signed per pass of the log's writer (it comes back at once while more wait)."""


def issue_status(release: Release, moment: datetime | None = None) -> Attestation:
    """Sign and log ``release``'s state now. Call inside the transaction that changed it (or
    that locked it), after :func:`clearroom.server.transparency.services.check_capacity`."""
    moment = (moment or timezone.now()).astimezone(UTC).replace(microsecond=0)
    p = release.product
    withdrawn = release.state == Release.State.WITHDRAWN
    sequenced = LogEntry.objects.aggregate(last=Max("index"))["last"]
    size = 0 if sequenced is None else sequenced + 1
    status = ReleaseStatus(
        {"vendor": p.vendor.slug, "product": p.slug, "version": release.version},
        "withdrawn" if withdrawn else "published",
        moment,
        size,
        release.withdrawn_reason if withdrawn else "",
        _key_event_counts(release, size),
    )
    statement = status.to_statement()
    signer = centre_signer()
    envelope = add_signature(Envelope(PAYLOAD_TYPE, statement.to_json(), ()), signer)
    same = Attestation.objects.filter(envelope_sha256=envelope_sha256(envelope)).first()
    if same is not None:  # stated already this second, with the log as it is: nothing new
        return same
    attestation = Attestation.objects.create(
        organisation=p.vendor,
        release=release,
        predicate_type=RELEASE_STATUS,
        payload_type=PAYLOAD_TYPE,
        envelope=envelope.to_json(),
        envelope_sha256=envelope_sha256(envelope),
        signer_keyids=[signer.public_key.keyid],
        created_at=moment,
    )
    log_statement(attestation, envelope, statement, moment)
    return attestation


def _key_event_counts(release: Release, size: int) -> dict[str, int]:
    """How many key events the vendor and each organisation that signed a statement about
    ``release`` have below log index ``size``: what the release's bundle must carry."""
    signers = release.attestations.exclude(predicate_type=RELEASE_STATUS)
    slugs = {release.product.vendor.slug, *signers.values_list("organisation__slug", flat=True)}
    counts = dict.fromkeys(slugs, 0)
    logged = Attestation.objects.filter(
        organisation__slug__in=slugs, predicate_type=KEY_EVENT, log_entry__index__lt=size
    )
    for row in logged.values("organisation__slug").annotate(n=Count("id")):
        counts[row["organisation__slug"]] = row["n"]
    return counts


def has_statements(release: Release) -> bool:
    """Whether ``release`` has a signed statement (then it has a bundle, which needs a status)."""
    return release.attestations.exclude(predicate_type=RELEASE_STATUS).exists()


def issue_status_if_stated(release: Release) -> None:
    """:func:`issue_status` for a published or withdrawn release with a signed statement."""
    if release.state != Release.State.DRAFT and has_statements(release):
        issue_status(release)


def refresh_statuses(now: datetime | None = None, *, limit: int = REFRESH_BATCH) -> int:
    """Re-sign the status of up to ``limit`` published or withdrawn releases with a signed
    statement whose newest status is missing or older than ``release_status_refresh_seconds``
    (oldest first). Returns how many; stops early while the log's backlog is full."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CONFIG.release_status_refresh_seconds)
    newest = Attestation.objects.filter(
        release=OuterRef("pk"), predicate_type=RELEASE_STATUS
    ).order_by("-created_at")
    statements = Attestation.objects.filter(release=OuterRef("pk")).exclude(
        predicate_type=RELEASE_STATUS
    )
    stale = (
        Release.objects.exclude(state=Release.State.DRAFT)
        .filter(Exists(statements))
        .annotate(status_at=Subquery(newest.values("created_at")[:1]))
        .filter(Q(status_at__isnull=True) | Q(status_at__lt=cutoff))
        .order_by(F("status_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in list(stale):
        try:
            with transaction.atomic():
                release = Release.objects.select_for_update().get(pk=pk)
                log.check_capacity(1)
                issue_status(release, now)
        except Unavailable:
            _log.info("release status refresh paused: the log's backlog is full")
            break
        done += 1
    return done
