"""Inviting people into an organisation, and accepting an invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clearroom.server.accounts import invitations
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.notifications.delivery import send_email
from clearroom.server.portal.errors import portal_view
from clearroom.server.portal.views import organisation_url


@require_POST
@portal_view(back=organisation_url)
@allow(Permission.ORG_MEMBER_MANAGE, "organisation")
def invite(request: HttpRequest, org: str) -> HttpResponse:
    auth = authorized(request)
    organisation = auth.resource.organisation
    invitation, secret = invitations.invite(
        auth.actor,
        organisation,
        request.POST.get("email", "").strip(),
        request.POST.get("role", ""),
    )
    link = settings.CONFIG.base_url.rstrip("/") + reverse("portal:invitation", args=[secret])
    sent = send_email(
        invitation.email,
        f"[Clearroom] Join {organisation.name}",
        f"{auth.actor.user} invites you to join {organisation.name} as {invitation.role}"
        f" on the Clearroom transparency centre:\n\n{link}\n\nThe link works once, for 7 days.\n",
    )
    messages.success(
        request,
        f"Invitation for {invitation.email} made{' and emailed' if sent else ''}. The link, shown"
        f" only now: {link}",
    )
    response = redirect("portal:organisation", org=org)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@portal_view()
@allow(Permission.PUBLIC_READ)
def invitation(request: HttpRequest, secret: str) -> HttpResponse:
    found = invitations.find(secret)
    signed_in = request.user.is_authenticated
    if request.method == "POST":
        user = invitations.accept(
            secret,
            request.user if signed_in else None,  # type: ignore[arg-type]
            username=request.POST.get("username", ""),
            password=request.POST.get("password", ""),
        )
        if not signed_in:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {found.organisation.name}.")
        return redirect("portal:organisation", org=found.organisation.slug)
    context = {"invitation": found, "signed_in": signed_in}
    response = render(request, "portal/invitation.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
