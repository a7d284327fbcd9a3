"""The portal's notification pages: a person's inbox with their email choices, and an
organisation owner's webhooks (the signing secret is shown once, when made)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clearroom.server.authz import Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.notifications import services
from clearroom.server.notifications.models import Notification, Preference
from clearroom.server.notifications.services import inbox
from clearroom.server.portal.errors import portal_view
from clearroom.server.portal.views import organisation_url

NOTIFICATIONS_SHOWN = 50


def _inbox_url(**_: object) -> str:
    return "/-/notifications/"


@require_GET
@portal_view()
@allow(Permission.INBOX_READ)
def notifications(request: HttpRequest) -> HttpResponse:
    actor = authorized(request).actor
    chosen = services.preferences(actor)
    context = {
        "notifications": inbox(actor)[:NOTIFICATIONS_SHOWN],
        "preferences": [(kind, label, chosen[kind]) for kind, label in Notification.Kind.choices],
        "email_choices": Preference.Email.choices,
        "has_email": bool(actor.user.email),  # type: ignore[union-attr]
    }
    return render(request, "portal/notifications.html", context)


@require_POST
@portal_view(back=_inbox_url)
@allow(Permission.INBOX_MANAGE)
def preferences(request: HttpRequest) -> HttpResponse:
    choices = {kind: request.POST.get(kind, "") for kind in Notification.Kind.values}
    services.set_preferences(authorized(request).actor, {k: v for k, v in choices.items() if v})
    messages.success(request, "Your email choices are saved.")
    return redirect("portal:notifications")


@require_POST
@portal_view(back=organisation_url)
@allow(Permission.ORG_WEBHOOK_MANAGE, "organisation")
def add_webhook(request: HttpRequest, org: str) -> HttpResponse:
    auth = authorized(request)
    hook, secret = services.add_webhook(
        auth.actor,
        auth.resource.organisation,
        request.POST.get("url", "").strip(),
        request.POST.getlist("kinds"),
    )
    messages.success(
        request,
        f"Webhook {hook.url} added. Its signing secret, shown only now: {secret}",
    )
    response = redirect("portal:organisation", org=org)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@portal_view(back=organisation_url)
@allow(Permission.ORG_WEBHOOK_MANAGE, "organisation")
def remove_webhook(request: HttpRequest, org: str, webhook: int) -> HttpResponse:
    services.remove_webhook(authorized(request).resource.organisation, webhook)
    messages.success(request, "Webhook removed.")
    return redirect("portal:organisation", org=org)
