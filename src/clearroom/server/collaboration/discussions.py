"""Findings and threads: a party raises a finding about a release (or asks the vendor's experts
a question), both sides write in its thread with attachments and @mentions, and the finding
moves through its workflow. The statuses that matter to third parties - verified fixed, risk
accepted - are logged facts. Routes have already checked who may call each function."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clearroom.server.accounts.models import Membership, User
from clearroom.server.authz import Actor, Permission
from clearroom.server.catalog.models import Product, Release
from clearroom.server.catalog.names import check_file_name, check_media_type
from clearroom.server.collaboration import access
from clearroom.server.collaboration.evaluations import acting_organisation
from clearroom.server.collaboration.models import (
    MAX_MESSAGE_CHARS,
    Attachment,
    Evaluation,
    Message,
    ReviewFinding,
    StatusChange,
    Thread,
)
from clearroom.server.errors import Conflict, Invalid, NotFound, TooLarge
from clearroom.server.notifications.models import Notification
from clearroom.server.notifications.services import notify
from clearroom.server.services import blob_store
from clearroom.server.transparency import services as log
from clearroom.tlog import facts

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")

Status = ReviewFinding.Status
VENDOR_MOVES: dict[str, set[str]] = {
    Status.ACKNOWLEDGED: {Status.OPEN},
    Status.FIX_PLANNED: {Status.OPEN, Status.ACKNOWLEDGED},
    Status.FIXED: {Status.OPEN, Status.ACKNOWLEDGED, Status.FIX_PLANNED},
    Status.DISPUTED: {Status.OPEN, Status.ACKNOWLEDGED, Status.FIX_PLANNED},
    Status.RISK_ACCEPTED: {Status.OPEN, Status.ACKNOWLEDGED, Status.FIX_PLANNED, Status.DISPUTED},
}
"""Statuses the vendor's experts may set, and from which."""
RAISER_MOVES: dict[str, set[str]] = {
    Status.VERIFIED: {Status.FIXED},
    Status.OPEN: {Status.FIXED, Status.DISPUTED, Status.RISK_ACCEPTED, Status.VERIFIED},
}
"""Statuses the organisation that raised the finding may set: verified, or reopened."""
NEEDS_JUSTIFICATION = {Status.DISPUTED, Status.RISK_ACCEPTED, Status.OPEN}
LOGGED = {Status.VERIFIED, Status.RISK_ACCEPTED}


def thread_url(thread: Thread) -> str:
    if hasattr(thread, "finding"):
        return reverse("portal:finding", args=[thread.finding.ref])
    return reverse("portal:thread", args=[thread.ref])


# -- threads -----------------------------------------------------------------------------------


def ask(actor: Actor, product: Product, *, subject: str, body: str, version: str = "") -> Thread:
    """A question from the actor's organisation to the vendor's experts, about ``product`` or
    one of its releases that is not a draft (``version``)."""
    asker = acting_organisation(actor, Permission.THREAD_ASK)
    release = None
    if version:
        release = product.releases.exclude(state=Release.State.DRAFT).filter(version=version)
        release = release.first()
        if release is None:
            raise NotFound(f"release {version} does not exist or is not visible to you")
    if asker.pk == product.vendor_id:
        raise Invalid("ask your own colleagues directly; threads are between two organisations")
    subject = _subject(subject)
    with transaction.atomic():
        thread = Thread.objects.create(
            product=product,
            release=release,
            counterpart=asker,
            subject=subject,
            opened_by=actor.user,
        )
        post(actor, thread, body, quiet=True)
        notify(
            Notification.Kind.THREAD,
            f"{asker.name} asks about {product.name}: {subject}",
            organisations=[product.vendor],
            url=thread_url(thread),
            release=release,
        )
    return thread


def post(
    actor: Actor,
    thread: Thread,
    body: str,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    *,
    quiet: bool = False,
) -> Message:
    """A message with optional attachments ``(name, media type, bytes)``; users @mentioned who
    belong to either party are notified, and so is the other party (unless ``quiet``)."""
    body = body.strip()
    if not body:
        raise Invalid("body: write something")
    if len(body) > MAX_MESSAGE_CHARS:
        raise TooLarge(f"a message is at most {MAX_MESSAGE_CHARS:,} characters")
    files = list(attachments)
    if len(files) > MAX_ATTACHMENTS:
        raise Invalid(f"at most {MAX_ATTACHMENTS} attachments per message")
    files = [(check_file_name(name), check_media_type(media), data) for name, media, data in files]
    for name, _, data in files:
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise TooLarge(f"attachment {name!r} is over {MAX_ATTACHMENT_BYTES // 2**20} MiB")
    parties = [thread.product.vendor_id, thread.counterpart_id]
    author_org = next((org for org in parties if org in actor.memberships()), None)
    with transaction.atomic():
        message = Message.objects.create(
            thread=thread, author=actor.user, author_organisation_id=author_org, body=body
        )
        for name, media_type, data in files:
            blob = blob_store().put_bytes(data)
            Attachment.objects.create(
                message=message,
                name=name,
                media_type=media_type,
                size=blob.size,
                sha256=blob.sha256,
            )
        mentioned = _mentions(body, parties)
        message.mentions.set(mentioned)
        link = thread_url(thread)
        if mentioned:
            notify(
                Notification.Kind.MENTION,
                f"{actor.user} mentioned you in “{thread.subject}”",
                users=[u for u in mentioned if u != actor.user],
                url=link,
            )
        if not quiet:
            others = [org for org in parties if org != author_org]
            notify(
                Notification.Kind.THREAD,
                f"New message in “{thread.subject}”",
                organisations=others,
                url=link,
                release=thread.release,
            )
        Thread.objects.filter(pk=thread.pk).update(closed_at=None)
    return message


def _mentions(body: str, parties: list[int]) -> list[User]:
    names = set(_MENTION.findall(body))
    if not names:
        return []
    members = Membership.objects.filter(organisation_id__in=parties, user__username__in=names)
    return list(User.objects.filter(pk__in=members.values("user_id")))


def _subject(subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject or len(subject) > 200:
        raise Invalid("subject: say what it is about in 1-200 characters")
    return subject


# -- findings ----------------------------------------------------------------------------------


def raise_finding(
    actor: Actor,
    release: Release,
    *,
    title: str,
    severity: str,
    body: str,
    evaluation: Evaluation | None = None,
    source: str = "person",
) -> ReviewFinding:
    """A finding from an evaluation (by its evaluator) or from any party that may see the
    release; its description is the first message of its thread."""
    if severity not in ReviewFinding.Severity.values:
        raise Invalid(f"severity must be one of {', '.join(ReviewFinding.Severity.values)}")
    if evaluation is not None:
        if evaluation.state != Evaluation.State.ACCEPTED:
            raise Conflict("findings are recorded while the evaluation is in progress")
        raiser = evaluation.evaluator
    else:
        raiser = acting_organisation(actor, Permission.FINDING_RAISE)
    if raiser.pk == release.product.vendor_id:
        raise Invalid("a vendor tracks its own findings in its own tools")
    title = _subject(title)
    with transaction.atomic():
        thread = Thread.objects.create(
            product=release.product,
            release=release,
            counterpart=raiser,
            subject=title,
            opened_by=actor.user,
        )
        finding = ReviewFinding.objects.create(
            release=release,
            evaluation=evaluation,
            raised_by=raiser,
            source=source,
            title=title,
            severity=severity,
            thread=thread,
        )
        post(actor, thread, body, quiet=True)
        notify(
            Notification.Kind.FINDING,
            f"{raiser.name} raised a {severity} finding on {release}: {title}",
            organisations=[release.product.vendor],
            url=thread_url(thread),
            release=release,
        )
    return finding


def change_status(
    actor: Actor, finding: ReviewFinding, status: str, *, note: str = ""
) -> ReviewFinding:
    """Move the finding. The vendor's experts acknowledge, plan, fix, dispute or accept the
    risk; the raising organisation verifies a fix or reopens. Disputing, accepting a risk and
    reopening need a reason; verified and risk-accepted are logged facts."""
    vendor_side = actor.has_perm(
        Permission.FINDING_RESPOND, finding.vendor, finding.release.product
    )
    raiser_side = actor.has_perm(
        Permission.FINDING_VERIFY, finding.raised_by, finding.release.product
    )
    moves = (VENDOR_MOVES if vendor_side else {}) | (RAISER_MOVES if raiser_side else {})
    if status not in moves:
        side = "the vendor" if status in VENDOR_MOVES else "the organisation that raised it"
        raise Conflict(f"only {side} sets a finding to {status!r}")
    note = note.strip()
    if status in NEEDS_JUSTIFICATION and not note:
        raise Invalid(f"note: say why the finding is {status.replace('_', ' ')}")
    with transaction.atomic():
        locked = ReviewFinding.objects.select_for_update().get(pk=finding.pk)
        if locked.status not in moves[status]:
            raise Conflict(
                f"a {locked.get_status_display().lower()} finding cannot become {status}"
            )
        entry = _log_status(actor, locked, status, note) if status in LOGGED else None
        StatusChange.objects.create(
            finding=locked,
            before=locked.status,
            after=status,
            by=actor.user,
            by_organisation=finding.vendor
            if vendor_side and status in VENDOR_MOVES
            else finding.raised_by,
            note=note,
            log_entry=entry,
        )
        locked.status = status
        locked.justification = (
            note if status in (Status.DISPUTED, Status.RISK_ACCEPTED) else locked.justification
        )
        locked.updated_at = timezone.now()
        locked.save()
        other = finding.raised_by if status in VENDOR_MOVES else finding.vendor
        notify(
            Notification.Kind.FINDING,
            f"“{locked.title}” is now {locked.get_status_display().lower()}",
            organisations=[other],
            url=thread_url(locked.thread),
            release=locked.release,
        )
    return locked


def _log_status(actor: Actor, finding: ReviewFinding, status: str, note: str) -> Any:
    release = finding.release
    p = release.product
    log.check_capacity(1)
    fields: dict[str, object] = {
        "release": {"vendor": p.vendor.slug, "product": p.slug, "version": release.version},
        "finding": str(finding.ref),
        "severity": finding.severity,
        "status": status,
        "raised_by": finding.raised_by.slug,
        "by": (finding.vendor if status == Status.RISK_ACCEPTED else finding.raised_by).slug,
        "justification_sha256": hashlib.sha256(note.encode()).hexdigest(),
    }
    fact_id, entry = facts.make_fact(facts.FINDING, timezone.now(), **fields)
    return log.record_entry(facts.FINDING, fact_id, entry, release=release)


def assign(actor: Actor, finding: ReviewFinding, username: str | None) -> ReviewFinding:
    """Give the finding to one of the vendor's experts (or to nobody)."""
    user = None
    if username:
        roles = ["owner", "maintainer", "expert"]
        user = User.objects.filter(
            username=username,
            membership__organisation=finding.vendor,
            membership__role__in=roles,
        ).first()
        if user is None:
            raise Invalid(
                f"{username!r} is not an expert, maintainer or owner of {finding.vendor.slug}"
            )
    ReviewFinding.objects.filter(pk=finding.pk).update(assignee=user, updated_at=timezone.now())
    if user is not None and user != actor.user:
        notify(
            Notification.Kind.MENTION,
            f"{actor.user} assigned you “{finding.title}”",
            users=[user],
            url=thread_url(finding.thread),
        )
    finding.refresh_from_db()
    return finding


def findings_for(actor: Actor, release: Release) -> Any:
    """The release's findings the actor may read (a party to them, by their token too)."""
    readable = access.readable(actor, ReviewFinding, Permission.THREAD_READ)
    return readable.filter(release=release).select_related("raised_by", "assignee")
