"""Every API error is an RFC 9457 problem details document (``application/problem+json``):
``type``, ``title``, ``status``, ``detail``, ``instance``, plus the request id to quote to the
centre's operators. Nothing reaches the client as a traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from clearroom.server.errors import ServiceError, TooLarge
from clearroom.server.ops.logging import request_id_var

log = logging.getLogger("clearroom.api")
PROBLEM_TYPES = "/help/problems#"


def problem(
    request: HttpRequest,
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPES + code if code else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": request_id_var.get(),
        **extra,
    }
    response = HttpResponse(
        json.dumps(body), status=status, content_type="application/problem+json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def install(api: NinjaAPI) -> None:
    """Replace django-ninja's default error bodies with problem details."""

    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        extra = dict(exc.extra)
        code = extra.pop("code", None) or exc.title.lower().replace(" ", "-")
        return problem(
            request, exc.status, exc.title, exc.detail, code=code, headers=exc.headers(), **extra
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors
        ]
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors) or "invalid input"
        return problem(request, 422, "Invalid input", detail, code="invalid-input", errors=errors)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(
            request, 401, "Authentication required", str(exc), code="authentication-required"
        )

    @api.exception_handler(RequestDataTooBig)
    def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return service_error(
            request,
            TooLarge(
                f"the request body is larger than this API's limit of {limit:,} bytes for"
                " JSON; files are uploaded to a release's artifacts or documents instead",
                limit=limit,
            ),
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, ServiceError):  # raised by our body parser (.bodies)
            return service_error(request, exc.__cause__)
        detail = str(exc)
        if detail == "Cannot parse request body":
            detail = "the request body is not valid JSON; send a JSON object"
        return problem(request, exc.status_code, _reason(exc.status_code), detail)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, 404, "Not found", "no such resource", code="not-found")

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return problem(
            request,
            500,
            "Internal error",
            "the centre failed to answer; quote the request_id to its operators",
        )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
