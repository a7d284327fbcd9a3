"""Template context shared by every portal page: the version, and the signed-in user's
organisations for the header (looked up only when a template asks)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from clearroom import __version__


def _memberships(request: HttpRequest) -> list[Any]:
    from clearroom.server.accounts.models import Membership

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "clearroom_version": __version__,
        "portal_memberships": SimpleLazyObject(lambda: _memberships(request)),
    }
