"""Signing in through the operator's OpenID Connect provider: ``/login/oidc/`` sends the visitor
there, ``/login/oidc/callback`` takes the answer (:mod:`clearroom.server.accounts.oidc` checks
it). Every refusal is on the audit trail and gets a page that says what to do, never a 500."""

from __future__ import annotations

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET
from joserfc.errors import JoseError

from clearroom.server.accounts import oidc, signin
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor, Permission
from clearroom.server.authz.request import client_ip
from clearroom.server.authz.routes import allow
from clearroom.server.errors import NotFound
from clearroom.server.portal.account import NEXT
from clearroom.server.portal.errors import portal_view

_log = logging.getLogger(__name__)
FAILURES = (AuthlibBaseError, JoseError, requests.RequestException, KeyError, ValueError)
"""What a provider that is down, misconfigured or answering falsely makes Authlib raise."""


def _enabled() -> None:
    if not oidc.enabled():
        raise NotFound("single sign-on is not set up on this centre; sign in with a password")


def _refused(request: HttpRequest, why: str, detail: str) -> HttpResponse:
    audit.record(
        Actor(None),
        "account:session:create",
        allowed=False,
        target="oidc",
        ip=client_ip(request),
        reason=why,
    )
    context = {"error": detail, "oidc_label": settings.CONFIG.oidc_label}
    return render(request, "portal/oidc_refused.html", context, status=400)


@require_GET
@portal_view()
@allow(Permission.PUBLIC_READ)
def start(request: HttpRequest) -> HttpResponse:
    _enabled()
    target = request.GET.get("next", "/")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
    request.session[NEXT] = target if safe else "/"
    callback = settings.CONFIG.base_url.rstrip("/") + reverse("portal:oidc-callback")
    try:
        return oidc.client().authorize_redirect(request, callback)  # type: ignore[no-any-return]
    except FAILURES as exc:
        _log.warning("oidc: the provider's metadata could not be read: %r", exc)
        return _refused(
            request,
            "provider unreachable",
            "The sign-in provider did not answer. Try again later, or sign in with a password.",
        )


@require_GET
@portal_view()
@allow(Permission.PUBLIC_READ)
def callback(request: HttpRequest) -> HttpResponse:
    _enabled()
    if "error" in request.GET:
        return _refused(
            request,
            f"provider: {request.GET['error'][:100]}",
            "The sign-in provider did not sign you in"
            f" ({request.GET.get('error_description', request.GET['error'])[:200]}).",
        )
    try:
        token = oidc.client().authorize_access_token(request)
        claims = dict(token["userinfo"])
    except FAILURES as exc:
        _log.warning("oidc: sign-in refused: %r", exc)
        return _refused(
            request,
            f"token: {exc.__class__.__name__}",
            "The sign-in could not be confirmed (it may have expired, been used already, or"
            " not come from the provider). Start again from the sign-in page.",
        )
    user = oidc.user_for(claims)
    if not user.is_active:
        return _refused(request, "inactive", "This account is disabled; ask the centre's operator.")
    target = request.session.pop(NEXT, "/")
    multi_factor = oidc.multi_factor(claims)
    if signin.has_second_factor(user) and not multi_factor:
        request.session[signin.PENDING] = user.pk
        request.session[NEXT] = target
        return redirect("portal:second-factor")
    signin.complete(request, user, second_factor=multi_factor)
    return redirect(target)
