"""Invitations: an owner invites a person by email to join the organisation with a role; the
link (its secret is never stored, only its SHA-256) lets them sign in or create an account and
join, once, before it expires."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearroom.server.accounts.models import Invitation, Membership, Organisation, User
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor
from clearroom.server.errors import Conflict, Invalid, NotFound

LIFETIME = timedelta(days=7)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(
    actor: Actor, organisation: Organisation, email: str, role: str
) -> tuple[Invitation, str]:
    """The invitation and its secret (for the link; shown and emailed once)."""
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid("email: give the invitee's email address") from None
    if role not in Membership.Role.values:
        raise Invalid(f"role must be one of {', '.join(Membership.Role.values)}")
    secret = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        secret_sha256=_digest(secret),
        invited_by=actor.user,
        expires_at=timezone.now() + LIFETIME,
    )
    audit.record(
        actor,
        "org:member:invite",
        allowed=True,
        target=email,
        organisation=organisation,
        role=role,
    )
    return invitation, secret


def find(secret: str) -> Invitation:
    found = (
        Invitation.objects.select_related("organisation")
        .filter(
            secret_sha256=_digest(secret), accepted_at__isnull=True, expires_at__gt=timezone.now()
        )
        .first()
    )
    if found is None:
        raise NotFound("this invitation does not exist, was used already or has expired")
    return found


def accept(secret: str, user: User | None, *, username: str = "", password: str = "") -> User:
    """Join as ``user`` (signed in) or as a new account made from ``username``/``password``."""
    with transaction.atomic():
        invitation = find(secret)
        if user is None:
            user = _new_account(username, password, invitation.email)
        if Membership.objects.filter(user=user, organisation=invitation.organisation).exists():
            raise Conflict(f"you are already a member of {invitation.organisation.name}")
        Membership.objects.create(
            user=user, organisation=invitation.organisation, role=invitation.role
        )
        updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not updated:
            raise NotFound("this invitation was used already")
        audit.record(
            Actor(user),
            "org:member:join",
            allowed=True,
            target=user.get_username(),
            organisation=invitation.organisation,
            role=invitation.role,
        )
    return user


def _new_account(username: str, password: str, email: str) -> User:
    username = username.strip()
    if not username or len(username) > 150:
        raise Invalid("username: choose one of 1-150 characters")
    candidate = User(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise Invalid("password: " + " ".join(exc.messages)) from None
    try:
        return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        raise Conflict(f"the username {username!r} is taken; choose another") from None
