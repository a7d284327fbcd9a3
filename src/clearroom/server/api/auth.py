"""Who is calling the API. Reads accept the browser session or a token; writes need an API token,
so no cross-site request can write with a visitor's cookies (the portal's forms have their own
CSRF protection)."""

from __future__ import annotations

from django.http import HttpRequest

from clearroom.server.authz import Actor
from clearroom.server.authz.request import actor_for
from clearroom.server.errors import Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_actor(request: HttpRequest) -> Actor:
    actor = actor_for(request)
    if request.method not in SAFE_METHODS and actor.is_authenticated and actor.token is None:
        raise Unauthenticated(
            "API writes need an API token (Authorization: Bearer clr_…); a browser session may"
            " only read. Create a token on your organisation's page in the portal."
        )
    return actor
