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
