"""Who is asking: the actor of an HTTP request, from a bearer token or the session."""

from __future__ import annotations

from django.http import HttpRequest

from clearroom.server.accounts.tokens import authenticate_token
from clearroom.server.authz.rules import Actor
from clearroom.server.errors import Unauthenticated


def actor_for(request: HttpRequest) -> Actor:
    """Bearer token if one is presented (a bad one is an error, never a silent downgrade to
    anonymous), else the signed-in user, else anonymous. Cached on the request."""
    cached: Actor | None = getattr(request, "_clearroom_actor", None)
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization: use 'Bearer <token>'")
        token = authenticate_token(value.strip())
        actor = Actor(user=token.user, token=token)
    else:
        user = getattr(request, "user", None)
        actor = Actor(user=user if user is not None and user.is_authenticated else None)
    request._clearroom_actor = actor  # type: ignore[attr-defined]
    return actor


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def api_actor_for(request: HttpRequest) -> Actor:
    """:func:`actor_for`, and API writes need a token: then no cross-site request can write
    with a visitor's cookies (the portal's forms have their own CSRF protection)."""
    actor = actor_for(request)
    if request.method not in SAFE_METHODS and actor.is_authenticated and actor.token is None:
        raise Unauthenticated(
            "API writes need an API token (Authorization: Bearer clr_…); a browser session may"
            " only read. Create a token on your organisation's page in the portal."
        )
    return actor


def client_ip(request: HttpRequest) -> str | None:
    """Where the request came from, for the audit trail and the sign-in lockout (behind a
    proxy, configure it to set ``REMOTE_ADDR``)."""
    return request.META.get("REMOTE_ADDR") or None
