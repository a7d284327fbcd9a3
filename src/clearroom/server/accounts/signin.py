"""Signing in: passwords (Argon2id), a lockout against guessing, and a second factor (an
authenticator app, RFC 6238 TOTP, or a passkey, :mod:`.passkeys`) - asked for when a person has
one, and required of vendor owners and maintainers, of evaluators and of the centre's staff
and superusers when the operator sets ``require_second_factor``.

Lockout: ``signin_max_failures`` refused attempts on one account, or four times as many from
one address, within ``signin_lockout_minutes`` refuse further attempts until the window passes.
The answer is the same whether the account exists or not, and it is given before the password
is checked, so a locked account cannot be guessed through. Every attempt is on the audit trail.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pyotp
from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clearroom.server.accounts.models import FailedSignIn, Membership, TotpDevice, User
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor
from clearroom.server.authz.request import client_ip

PENDING = "clearroom_second_factor_user"
MUST_ENROLL = "clearroom_must_enroll"
ISSUER = "Clearroom"


def _ip(request: HttpRequest | None) -> str | None:
    """The client's address (Django's sign-in form may have no request)."""
    return client_ip(request) if request is not None else None


def locked(username: str, ip: str | None) -> bool:
    config = settings.CONFIG
    since = timezone.now() - timedelta(minutes=config.signin_lockout_minutes)
    recent = FailedSignIn.objects.filter(at__gte=since)
    if recent.filter(username__iexact=username).count() >= config.signin_max_failures:
        return True
    return ip is not None and recent.filter(ip=ip).count() >= 4 * config.signin_max_failures


def refused(request: HttpRequest | None, username: str, why: str) -> None:
    FailedSignIn.objects.create(username=username[:150], ip=_ip(request))
    audit.record(
        Actor(None),
        "account:session:create",
        allowed=False,
        target=username[:150],
        ip=_ip(request),
        reason=why,
    )


def lockout_message() -> str:
    minutes = settings.CONFIG.signin_lockout_minutes
    return (
        f"Too many failed attempts: signing in is paused for up to {minutes} minutes."
        " Wait, or ask your organisation's owner or the centre's operator."
    )


class SignInForm(AuthenticationForm):
    """Django's form, with the lockout before the password check and every refusal recorded."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if username and locked(username, _ip(self.request)):
            refused(self.request, username, "locked")
            raise forms.ValidationError(lockout_message(), code="locked")
        try:
            return super().clean()
        except forms.ValidationError:
            if username:
                refused(self.request, username, "password")
            raise


def needs_second_factor(user: User) -> bool:
    """Must this person have one (the operator's rule)? Staff and superusers always do: they
    reach the admin site, which signs in through the portal."""
    if not settings.CONFIG.require_second_factor:
        return False
    if user.is_staff or user.is_superuser:
        return True
    risky = Membership.objects.filter(user=user).filter(
        role__in=["owner", "maintainer"], organisation__kind="vendor"
    ) | Membership.objects.filter(user=user, role="evaluator")
    return risky.exists()


def device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def has_second_factor(user: User) -> bool:
    """An authenticator app or at least one passkey."""
    return device(user) is not None or user.passkeys.exists()


def complete(request: HttpRequest, user: User, *, second_factor: bool = False) -> None:
    """Sign the person in (the password or the provider's sign-in and, if any, the second
    factor checked). ``second_factor``: the provider used several factors, which meets the
    operator's rule without one of Clearroom's own."""
    FailedSignIn.objects.filter(username__iexact=user.get_username()).delete()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if needs_second_factor(user) and not second_factor and not has_second_factor(user):
        request.session[MUST_ENROLL] = True
    audit.record(
        Actor(user),
        "account:session:create",
        allowed=True,
        target=user.get_username(),
        ip=_ip(request),
    )


# -- TOTP ----------------------------------------------------------------------------------------


def check_code(found: TotpDevice, code: str) -> bool:
    """The code of this or a neighbouring 30-second step, never one used before."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(found.secret)
    now = timezone.now()
    for drift in (0, -1, 1):
        step = int(now.timestamp()) // 30 + drift
        if step > found.last_step and secrets.compare_digest(totp.at(step * 30), code):
            with transaction.atomic():
                updated = TotpDevice.objects.filter(pk=found.pk, last_step__lt=step).update(
                    last_step=step
                )
            return bool(updated)
    return False


def start_enrolment(user: User) -> TotpDevice:
    TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).delete()
    if device(user) is not None:
        raise ValueError("a confirmed authenticator exists; remove it first")
    return TotpDevice.objects.create(user=user, secret=pyotp.random_base32())


def provisioning_uri(found: TotpDevice) -> str:
    return pyotp.TOTP(found.secret).provisioning_uri(
        name=found.user.get_username(), issuer_name=ISSUER
    )
