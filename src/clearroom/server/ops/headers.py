"""Defence in depth on every answer: a Content-Security-Policy that lets a page run only the
service's own scripts and styles (no inline code, so an injected ``<script>`` or ``onclick``
never runs), and ``Cache-Control: private, no-store`` on every answer to someone signed in or
presenting a token - what they see may be a draft, a confidential file's metadata or their
inbox, which no shared cache or browser disk should keep.

Anonymous answers are everyone's answers and keep their own caching (the page cache and the
log's immutable tiles depend on it). A view may still mark an answer ``public`` when it is the
same for everyone (a published file, a log tile), or ``no-store`` itself; anything else is
made private."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""``data:`` images only for the API docs' icons (Swagger UI's stylesheet); no inline script or
style anywhere, no ``eval``."""

PRIVATE = "private, no-store"


def has_credentials(request: HttpRequest) -> bool:
    """A bearer token, or a session of someone signed in."""
    if "authorization" in request.headers:
        return True
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if has_credentials(request) or response.cookies:
            control = response.get("Cache-Control", "")
            if "public" not in control and "no-store" not in control:
                response["Cache-Control"] = PRIVATE
        return response
