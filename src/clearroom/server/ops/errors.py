"""Errors outside any view: under ``/api/`` they are problem details like every other API error;
elsewhere they are the portal's pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from clearroom.server.api.problems import problem


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return problem(
            request, 404, "Not found", f"no API resource at {request.path}", code="not-found"
        )
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem(
            request,
            500,
            "Internal error",
            "the centre failed to answer; quote the request_id to its operators",
        )
    return defaults.server_error(request)
