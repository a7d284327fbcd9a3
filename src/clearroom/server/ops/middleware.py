"""Per-request context: a request id (taken from ``X-Request-ID`` when sane, else new), echoed
in the response, stamped on every log line, and request metrics by route."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from clearroom.server.ops.logging import request_id_var
from clearroom.server.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("clearroom.http")


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        elapsed = time.perf_counter() - started
        route = _route(request)
        HTTP_REQUESTS.labels(request.method, route, f"{response.status_code // 100}xx").inc()
        HTTP_LATENCY.labels(route).observe(elapsed)
        response["X-Request-ID"] = request_id
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response
