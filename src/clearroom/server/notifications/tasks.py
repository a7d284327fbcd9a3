"""Jobs: deliver each notification (email, webhooks; retried when a webhook fails) and send the
daily digests."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from clearroom.jobs import enqueue, job
from clearroom.server.accounts.models import User
from clearroom.server.notifications import delivery
from clearroom.server.notifications.models import Notification

DIGEST_HOUR = time(6, 0)


@job("notifications.deliver", max_attempts=5, timeout=120)
def deliver(*, notification: int) -> dict[str, Any] | None:
    found = (
        Notification.objects.filter(pk=notification)
        .select_related("user", "organisation", "release__product__vendor")
        .first()
    )
    if found is None:
        return None
    counts = delivery.deliver(found)
    if counts["digest"]:
        schedule_digest()
    return counts


@job("notifications.digest", max_attempts=3, timeout=600)
def digest() -> dict[str, int]:
    sent = 0
    for user in User.objects.filter(pk__in=delivery.users_with_digests()):
        sent += delivery.send_digest(user)
    return {"notifications": sent}


def next_digest(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    today = now.replace(hour=DIGEST_HOUR.hour, minute=DIGEST_HOUR.minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def schedule_digest() -> None:
    """One digest job waits for the next 06:00 UTC, whoever's notifications it will carry."""
    enqueue("notifications.digest", dedupe_key="notifications:digest", run_after=next_digest())
