"""The transparency log's page: what the log is, its latest checkpoint and witnesses, the
newest facts, and how to verify all of it without trusting Clearroom."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clearroom.server.transparency import services as log
from clearroom.server.transparency.identity import verifier, witnesses
from clearroom.server.transparency.models import LogEntry

RECENT = 25


@require_GET
def log_page(request: HttpRequest) -> HttpResponse:
    state = log.log_state()
    context = {
        "state": state,
        "verifier_key": verifier().to_key(),
        "origin": verifier().name,
        "witnesses": witnesses(),
        "recent": LogEntry.objects.filter(index__isnull=False)
        .select_related("release__product__vendor")
        .order_by("-index")[:RECENT],
        "waiting": LogEntry.objects.filter(index__isnull=True).count(),
        "tiles_url": request.build_absolute_uri("/log/"),
    }
    return render(request, "portal/log.html", context)
