"""Signing in (password, lockout, second factor) and a person's own security settings."""

from __future__ import annotations

import json
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearroom.server.accounts import oidc, passkeys, signin
from clearroom.server.accounts.models import Passkey, TotpDevice, User
from clearroom.server.authz import Permission
from clearroom.server.authz.request import client_ip
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.errors import Invalid
from clearroom.server.portal.errors import portal_view

NEXT = "clearroom_next"


def _account_url(**_: object) -> str:
    return "/-/account/"


class SignInView(LoginView):
    form_class = signin.SignInForm
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if oidc.enabled():
            context["oidc_label"] = settings.CONFIG.oidc_label
        return context

    def form_valid(self, form: signin.SignInForm) -> HttpResponse:
        user = form.get_user()
        if signin.has_second_factor(user):
            self.request.session[signin.PENDING] = user.pk
            self.request.session[NEXT] = self.get_success_url()
            return redirect("portal:second-factor")
        signin.complete(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
@allow(Permission.PUBLIC_READ)
def second_factor(request: HttpRequest) -> HttpResponse:
    pending = User.objects.filter(pk=request.session.get(signin.PENDING)).first()
    if pending is None:
        return render(request, "portal/second_factor.html", {"expired": True}, status=400)
    error = ""
    if request.method == "POST":
        username = pending.get_username()
        found = signin.device(pending)
        if signin.locked(username, client_ip(request)):
            error = signin.lockout_message()
        elif found is not None and signin.check_code(found, request.POST.get("code", "")):
            target = request.session.pop(NEXT, "/")
            request.session.pop(signin.PENDING, None)
            signin.complete(request, pending)
            safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
            return redirect(target if safe else "/")
        else:
            signin.refused(request, username, "second factor")
            error = "That code is not right (or was used already); try the next one."
    context = {
        "error": error,
        "has_code": signin.device(pending) is not None,
        "has_passkey": pending.passkeys.exists(),
    }
    return render(request, "portal/second_factor.html", context, status=422 if error else 200)


CHALLENGE = "clearroom_passkey_challenge"


def _remember(request: HttpRequest, options: str, challenge: bytes) -> HttpResponse:
    request.session[CHALLENGE] = challenge.hex()
    return HttpResponse(options, content_type="application/json")


def _challenge(request: HttpRequest) -> bytes:
    stored = request.session.pop(CHALLENGE, None)
    if not stored:
        raise Invalid("passkey: no ceremony in progress; start again")
    return bytes.fromhex(stored)


@require_POST
@allow(Permission.PUBLIC_READ)
def passkey_sign_in_options(request: HttpRequest) -> HttpResponse:
    pending = User.objects.filter(pk=request.session.get(signin.PENDING)).first()
    if pending is None or not pending.passkeys.exists():
        return JsonResponse({"detail": "sign in with your password first"}, status=400)
    return _remember(request, *passkeys.authentication_options(pending))


@require_POST
@allow(Permission.PUBLIC_READ)
def passkey_sign_in(request: HttpRequest) -> HttpResponse:
    pending = User.objects.filter(pk=request.session.get(signin.PENDING)).first()
    if pending is None:
        return JsonResponse({"detail": "sign in with your password first"}, status=400)
    username = pending.get_username()
    if signin.locked(username, client_ip(request)):
        return JsonResponse({"detail": signin.lockout_message()}, status=429)
    try:
        challenge = _challenge(request)
    except Invalid as exc:
        return JsonResponse({"detail": exc.detail}, status=400)
    if not passkeys.authenticate(pending, request.body.decode(errors="replace"), challenge):
        signin.refused(request, username, "passkey")
        return JsonResponse({"detail": "that passkey was not accepted"}, status=422)
    target = request.session.pop(NEXT, "/")
    request.session.pop(signin.PENDING, None)
    signin.complete(request, pending)
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()})
    return JsonResponse({"next": target if safe else "/"})


@require_POST
@portal_view(back=_account_url)
@allow(Permission.ACCOUNT_MANAGE)
def passkey_options(request: HttpRequest) -> HttpResponse:
    user = authorized(request).actor.user
    return _remember(request, *passkeys.registration_options(user))  # type: ignore[arg-type]


@require_POST
@portal_view(back=_account_url)
@allow(Permission.ACCOUNT_MANAGE)
def passkey_register(request: HttpRequest) -> HttpResponse:
    user = authorized(request).actor.user
    try:
        body = json.loads(request.body)
        made = passkeys.register(
            user,  # type: ignore[arg-type]
            json.dumps(body.get("credential")),
            _challenge(request),
            str(body.get("name", "")),
        )
    except (ValueError, AttributeError):
        return JsonResponse({"detail": "send {credential, name} as JSON"}, status=422)
    except Invalid as exc:
        return JsonResponse({"detail": exc.detail}, status=422)
    request.session.pop(signin.MUST_ENROLL, None)
    return JsonResponse({"name": made.name}, status=201)


@require_POST
@portal_view(back=_account_url)
@allow(Permission.ACCOUNT_MANAGE)
def passkey_remove(request: HttpRequest, passkey: int) -> HttpResponse:
    user = authorized(request).actor.user
    owned = Passkey.objects.filter(user=user, pk=passkey)
    if not owned.exists():
        raise Invalid("no such passkey of yours")
    if (
        signin.needs_second_factor(user)
        and signin.device(user) is None
        and user.passkeys.count() == 1
    ):  # type: ignore[union-attr,arg-type]
        raise Invalid("your roles require a second factor; add another before removing this one")
    owned.delete()
    messages.success(request, "The passkey is removed.")
    return redirect("portal:account")


@require_GET
@portal_view()
@allow(Permission.ACCOUNT_MANAGE)
def account(request: HttpRequest) -> HttpResponse:
    user = authorized(request).actor.user
    pending = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    context = {
        "device": signin.device(user),  # type: ignore[arg-type]
        "passkeys": Passkey.objects.filter(user=user),
        "pending": pending,
        "required": signin.needs_second_factor(user),  # type: ignore[arg-type]
        "must_enroll": request.session.get(signin.MUST_ENROLL, False),
    }
    if pending is not None:
        uri = signin.provisioning_uri(pending)
        context["uri"] = uri
        context["qr"] = segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your app")
    return render(request, "portal/account.html", context)


@require_POST
@portal_view(back=_account_url)
@allow(Permission.ACCOUNT_MANAGE)
def account_action(request: HttpRequest) -> HttpResponse:
    user = authorized(request).actor.user
    action = request.POST.get("action")
    code = request.POST.get("code", "")
    if action == "start":
        try:
            signin.start_enrolment(user)  # type: ignore[arg-type]
        except ValueError as exc:
            raise Invalid(str(exc)) from None
    elif action == "confirm":
        pending = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
        if pending is None or not signin.check_code(pending, code):
            raise Invalid("code: enter the 6 digits your app shows now")
        TotpDevice.objects.filter(pk=pending.pk).update(confirmed_at=timezone.now())
        request.session.pop(signin.MUST_ENROLL, None)
        messages.success(request, "Your authenticator app is set up: sign-ins will ask for it.")
    elif action == "remove":
        found = signin.device(user)  # type: ignore[arg-type]
        if found is None or not signin.check_code(found, code):
            raise Invalid("code: removing the second factor needs a current code from it")
        if signin.needs_second_factor(user) and not user.passkeys.exists():  # type: ignore[arg-type,union-attr]
            raise Invalid("your roles require a second factor; set up another one first")
        found.delete()
        messages.success(request, "The second factor is removed.")
    else:
        raise Invalid("action must be start, confirm or remove")
    return redirect("portal:account")


class SecondFactorRequired:
    """While a person who must have a second factor has none, only their account page (to
    set it up) and signing out are open to them."""

    OPEN = ("/-/account/", "/logout/", "/static/", "/healthz")

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.get(signin.MUST_ENROLL)
            and not request.path.startswith(self.OPEN)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "set up a second factor first, at /-/account/", "status": 403},
                    status=403,
                )
            return redirect("portal:account")
        return self.get_response(request)
