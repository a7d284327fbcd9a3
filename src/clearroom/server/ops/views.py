"""Operational endpoints: ``/healthz`` (the database and the artifact store answer) and
``/metrics`` (Prometheus text format)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from clearroom import __version__
from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow
from clearroom.server.services import blob_store


@require_GET
@allow(Permission.PUBLIC_READ)
def health(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - health reports any failure instead of raising
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        blob_store().exists("0" * 64)
        checks["blob_store"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["blob_store"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks},
        status=200 if healthy else 503,
    )


@require_GET
@allow(Permission.PUBLIC_READ)
def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
