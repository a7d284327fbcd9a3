"""Your notifications and email choices; an organisation's signed webhooks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Router, Schema, Status

from clearroom.server.api.schemas import Problem
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import Allow
from clearroom.server.notifications import services
from clearroom.server.notifications.models import Notification, Webhook

router = Router(tags=["notifications"])
ERRORS: dict[int, type[Problem]] = dict.fromkeys((400, 401, 403, 404, 409, 422), Problem)


class WebhookIn(Schema):
    url: str = Field(..., max_length=500)
    kinds: list[str] = []


def notification_out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "text": n.text,
        "url": n.url or None,
        "organisation": n.organisation.slug if n.organisation else None,
        "personal": n.user_id is not None,
        "created_at": n.created_at.isoformat(),
    }


def webhook_out(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.pk,
        "url": hook.url,
        "kinds": hook.kinds,
        "active": hook.active,
        "last_status": hook.last_status or None,
        "last_delivery_at": hook.last_delivery_at.isoformat() if hook.last_delivery_at else None,
    }


@router.get(
    "/notifications",
    response={200: list[dict[str, Any]], 401: Problem},
    summary="Your notifications and your organisations', newest first",
    auth=Allow(Permission.INBOX_READ),
)
def list_notifications(request: HttpRequest) -> Any:
    return [notification_out(n) for n in services.inbox(request.auth.actor)[:200]]


@router.get(
    "/notifications/preferences",
    response={200: dict[str, str], 401: Problem},
    summary="How you receive each kind of notification by email: off, immediate or daily",
    auth=Allow(Permission.INBOX_READ),
)
def get_preferences(request: HttpRequest) -> Any:
    return services.preferences(request.auth.actor)


@router.post(
    "/notifications/preferences",
    response={200: dict[str, str], **ERRORS},
    summary='Set email choices, e.g. {"finding": "immediate", "vulnerability": "off"}',
    auth=Allow(Permission.INBOX_MANAGE),
)
def set_preferences(request: HttpRequest, data: Body[dict[str, str]]) -> Any:
    return services.set_preferences(request.auth.actor, data)


@router.get(
    "/organisations/{org}/webhooks",
    response={200: list[dict[str, Any]], **ERRORS},
    auth=Allow(Permission.ORG_WEBHOOK_MANAGE, "organisation"),
)
def list_webhooks(request: HttpRequest, org: str) -> Any:
    return [webhook_out(h) for h in request.auth.resource.organisation.webhooks.all()]


@router.post(
    "/organisations/{org}/webhooks",
    response={201: dict[str, Any], **ERRORS},
    summary="Register a webhook; the answer holds its signing secret, shown only this once",
    auth=Allow(Permission.ORG_WEBHOOK_MANAGE, "organisation"),
)
def add_webhook(request: HttpRequest, org: str, data: WebhookIn) -> Any:
    hook, secret = services.add_webhook(
        request.auth.actor, request.auth.resource.organisation, data.url, data.kinds
    )
    return Status(201, {**webhook_out(hook), "secret": secret})


@router.post(
    "/organisations/{org}/webhooks/{webhook}/delete",
    response={200: dict[str, Any], **ERRORS},
    auth=Allow(Permission.ORG_WEBHOOK_MANAGE, "organisation"),
)
def remove_webhook(request: HttpRequest, org: str, webhook: int) -> Any:
    services.remove_webhook(request.auth.resource.organisation, webhook)
    return {"deleted": webhook}
