"""API tokens: ``clr_<key id>_<secret>``. The key id finds the row; only SHA-256 of the secret is
stored (the secret has 256 bits of entropy, so a fast hash is enough), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from clearroom.server.accounts.models import ApiToken, Organisation, User
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor, Permission
from clearroom.server.authz.permissions import grantable
from clearroom.server.errors import Forbidden, Invalid, NotFound, Unauthenticated

if TYPE_CHECKING:
    from clearroom.server.catalog.models import Product

PREFIX = "clr"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    user: User,
    organisation: Organisation,
    *,
    name: str,
    scopes: Iterable[str],
    product: Product | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is shown once and never stored."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Permission._value2member_map_]
    if unknown or not scopes:
        raise Invalid(
            f"scopes: {', '.join(unknown) or 'none given'}; choose from "
            + ", ".join(p.value for p in Permission)
        )
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise Invalid(f"lifetime: a token must expire within {MAX_LIFETIME.days} days")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        key_id=key_id,
        secret_sha256=_digest(secret),
        name=name,
        user=user,
        organisation=organisation,
        product=product,
        scopes=scopes,
        expires_at=timezone.now() + lifetime,
    )
    return token, f"{PREFIX}_{key_id}_{secret}"


def authenticate_token(presented: str) -> ApiToken:
    """The active token for ``presented``, or :class:`Unauthenticated` saying why not."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthenticated("token: not a Clearroom API token (expected clr_<id>_<secret>)")
    _, key_id, secret = parts
    token = ApiToken.objects.select_related("user", "organisation").filter(key_id=key_id).first()
    if token is None or not hmac.compare_digest(token.secret_sha256, _digest(secret)):
        raise Unauthenticated("token: unknown or wrong token")
    if token.revoked_at is not None:
        raise Unauthenticated("token: this token was revoked; ask for a new one")
    now = timezone.now()
    if token.expires_at <= now:
        raise Unauthenticated("token: this token has expired; ask for a new one")
    if not token.user.is_active:
        raise Unauthenticated("token: its user is deactivated")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def create_token(
    actor: Actor,
    organisation: Organisation,
    *,
    name: str,
    scopes: Iterable[str],
    product: Product | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> tuple[ApiToken, str]:
    """A member issues a token for themself, never wider than their own role allows."""
    if not actor.is_authenticated or actor.token is not None:
        raise Unauthenticated("sign in to the portal to create API tokens")
    role = actor.memberships().get(organisation.pk)
    if role is None:
        raise Forbidden(f"only members of {organisation.name} can hold API tokens for it")
    beyond = sorted(set(scopes) - {p.value for p in grantable(role, organisation.kind)})
    if beyond:
        raise Forbidden(f"your role ({role}) does not allow the scopes {', '.join(beyond)}")
    if product is not None and product.vendor_id != organisation.pk:
        raise Invalid(f"product: {product} does not belong to {organisation.name}")
    token, plaintext = issue_token(
        actor.user,  # type: ignore[arg-type]
        organisation,
        name=name,
        scopes=scopes,
        product=product,
        lifetime=lifetime,
    )
    audit.record(
        actor,
        "org:token:create",
        allowed=True,
        target=f"token:{token.key_id}",
        organisation=organisation,
        scopes=token.scopes,
    )
    return token, plaintext


def revoke_token(actor: Actor, organisation: Organisation, key_id: str) -> ApiToken:
    """Revoke one of the actor's own tokens (idempotent)."""
    token = ApiToken.objects.filter(
        user=actor.user, organisation=organisation, key_id=key_id
    ).first()
    if not actor.is_authenticated or token is None:
        raise NotFound(f"you hold no API token {key_id!r} for {organisation.name}")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
        audit.record(
            actor,
            "org:token:revoke",
            allowed=True,
            target=f"token:{key_id}",
            organisation=organisation,
        )
    return token
