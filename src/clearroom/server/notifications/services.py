"""Tell organisations and people what happened. Call :func:`notify` inside the transaction of
the change: the notification exists exactly when the change does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor
from clearroom.server.notifications.models import Notification


def notify(
    kind: str,
    text: str,
    *,
    organisations: Iterable[Organisation | int] = (),
    users: Iterable[Any] = (),
    url: str = "",
    release: Any = None,
) -> list[Notification]:
    """One notification per organisation inbox and per person."""
    made = [
        Notification(
            organisation_id=org if isinstance(org, int) else org.pk,
            kind=kind,
            text=text,
            url=url,
            release=release,
        )
        for org in dict.fromkeys(organisations)
    ]
    made += [
        Notification(user=user, kind=kind, text=text, url=url, release=release)
        for user in dict.fromkeys(users)
    ]
    return Notification.objects.bulk_create(made)


def inbox(actor: Actor) -> QuerySet[Notification]:
    """What the actor sees: their own notifications and their organisations' inboxes."""
    if not actor.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(
        Q(user=actor.user) | Q(organisation_id__in=list(actor.memberships()))
    ).select_related("organisation", "release")
