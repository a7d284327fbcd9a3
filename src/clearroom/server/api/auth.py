"""Who is calling the API (see :func:`clearroom.server.authz.request.api_actor_for`)."""

from clearroom.server.authz.request import api_actor_for as api_actor

__all__ = ["api_actor"]
