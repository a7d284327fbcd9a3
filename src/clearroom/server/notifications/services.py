"""Tell organisations and people what happened. Call :func:`notify` inside the transaction of
the change: the notification exists exactly when the change does."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from clearroom.jobs import enqueue
from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor
from clearroom.server.errors import Invalid, NotFound
from clearroom.server.notifications.delivery import check_target
from clearroom.server.notifications.models import Notification, Preference, Webhook

MAX_WEBHOOKS = 10


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
    created = Notification.objects.bulk_create(made)
    for notification in created:
        enqueue("notifications.deliver", notification=notification.pk)
    return created


def inbox(actor: Actor) -> QuerySet[Notification]:
    """What the actor sees: their own notifications and their organisations' inboxes."""
    if not actor.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(
        Q(user=actor.user) | Q(organisation_id__in=list(actor.memberships()))
    ).select_related("organisation", "release")


def add_webhook(
    actor: Actor, organisation: Organisation, url: str, kinds: list[str]
) -> tuple[Webhook, str]:
    """Register a webhook; returns it and its signing secret (shown to the caller once)."""
    unknown = sorted(set(kinds) - set(Notification.Kind.values))
    if unknown:
        raise Invalid(
            f"kinds: unknown {', '.join(unknown)}; use {', '.join(Notification.Kind.values)}"
        )
    check_target(url)
    if organisation.webhooks.count() >= MAX_WEBHOOKS:
        raise Invalid(f"an organisation has at most {MAX_WEBHOOKS} webhooks")
    secret = secrets.token_urlsafe(32)
    hook = Webhook.objects.create(
        organisation=organisation,
        url=url,
        secret=secret,
        kinds=sorted(set(kinds)),
        created_by=actor.user,
    )
    return hook, secret


def remove_webhook(organisation: Organisation, webhook: int) -> None:
    deleted, _ = Webhook.objects.filter(organisation=organisation, pk=webhook).delete()
    if not deleted:
        raise NotFound(f"webhook {webhook} does not exist")


def set_preferences(actor: Actor, choices: dict[str, str]) -> dict[str, str]:
    """Save the person's email choice per kind; returns every kind's choice."""
    for kind, choice in choices.items():
        if kind not in Notification.Kind.values or choice not in Preference.Email.values:
            raise Invalid(
                f"{kind}: choose one of {', '.join(Preference.Email.values)} for a kind among"
                f" {', '.join(Notification.Kind.values)}"
            )
        Preference.objects.update_or_create(user=actor.user, kind=kind, defaults={"email": choice})
    return preferences(actor)


def preferences(actor: Actor) -> dict[str, str]:
    from clearroom.server.notifications.delivery import email_choice

    return {kind: email_choice(actor.user, kind) for kind in Notification.Kind.values}  # type: ignore[arg-type]
