"""Error pages of the portal: a :class:`ServiceError` raised by a service becomes a page with its
status (404, 403, 409, 422, …), never a 500; "sign in first" becomes the login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from clearroom.server.errors import ServiceError, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD"})
TEMPLATES = {404: "portal/404.html", 403: "portal/403.html"}

View = Callable[..., HttpResponse]


def error_page(
    request: HttpRequest, exc: ServiceError, *, back_url: str | None = None
) -> HttpResponse:
    """Render ``exc`` as a page with its own status and its message, which says what to do."""
    template = TEMPLATES.get(exc.status, "portal/error.html")
    context = {"status": exc.status, "title": exc.title, "detail": exc.detail, "back_url": back_url}
    response = render(request, template, context, status=exc.status)
    for name, value in exc.headers().items():
        response[name] = value
    return response


def portal_view(back: Callable[..., str] | None = None) -> Callable[[View], View]:
    """Turn service errors into pages. ``back(**url_kwargs)`` names the page an action (a POST)
    was made from: error pages link back to it, and a visitor who must sign in first returns
    there after signing in."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            page = None
            if request.method not in SAFE_METHODS:
                page = back(**kwargs) if back is not None else reverse("portal:home")
            try:
                return view(request, *args, **kwargs)
            except Unauthenticated as exc:
                if "Authorization" in request.headers:
                    # A bad bearer token: say so; a login form would not help.
                    return error_page(request, exc, back_url=page)
                return redirect_to_login(page or request.get_full_path())
            except ServiceError as exc:
                return error_page(request, exc, back_url=page)

        return wrapper

    return decorate


# Django's error handlers (``handler404`` / ``handler403`` in the root URLconf), for errors
# raised outside the portal's views, such as a URL that matches nothing.


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "portal/404.html", {"status": 404}, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "portal/403.html", {"status": 403}, status=403)
