"""The portal's audit trail page: an organisation's owners see who read its confidential
material and what its members read of others', how much of it is sealed into the log, and how
to check it themselves."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clearroom.server.audit import services
from clearroom.server.audit.models import AuditBatch
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.portal.errors import portal_view

PAGE_SIZE = 50


@require_GET
@portal_view()
@allow(Permission.ORG_AUDIT_READ, "organisation")
def audit_trail(request: HttpRequest, org: str) -> HttpResponse:
    organisation = authorized(request).resource.organisation
    events = services.trail(organisation).select_related("batch")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    api = reverse("api:audit", kwargs={"org": org})
    context = {
        "organisation": organisation,
        "page": page,
        "latest_batch": AuditBatch.objects.select_related("log_entry").last(),
        "unsealed": events.filter(batch__isnull=True).count(),
        "json_url": api,
        "csv_url": f"{api}?format=csv",
    }
    return render(request, "portal/audit.html", context)
