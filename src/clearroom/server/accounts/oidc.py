"""Signing in with the operator's OpenID Connect provider (optional; on when ``oidc_issuer`` is
set): the authorization code flow with PKCE, state and nonce, through Authlib, which discovers
the provider, fetches its keys and checks the ID token (signature, issuer, audience, expiry,
nonce).

Who is who: the first sign-in links the provider's ``(issuer, subject)`` to a new Clearroom
account with no organisation (an owner then invites it, as anyone); later sign-ins find it by
that pair alone. An existing account is never taken over by a matching name or email address.

Second factor: the provider's sign-in counts as one when its ID token says it used several
factors (``amr``, RFC 8176); otherwise the account's own authenticator app or passkey is asked
for, and required, exactly as after a password.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearroom.server.accounts.models import OidcIdentity, User

NAME = "provider"
MULTI_FACTOR = frozenset({"mfa", "hwk", "otp", "sc", "swk"})
"""``amr`` values (RFC 8176) that mean more than a password was used."""


def enabled() -> bool:
    return bool(settings.CONFIG.oidc_issuer)


def client() -> DjangoOAuth2App:
    config = settings.CONFIG
    return _client(config.oidc_issuer, config.oidc_client_id, config.oidc_client_secret)


@functools.cache
def _client(issuer: str, client_id: str, secret: str) -> DjangoOAuth2App:
    """One per configuration, so the provider's metadata and keys are fetched once."""
    registry = OAuth()
    return registry.register(  # type: ignore[no-any-return]
        NAME,
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )


def multi_factor(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr")
    return isinstance(amr, list) and bool(MULTI_FACTOR & set(map(str, amr)))


def _free_username(claims: dict[str, Any]) -> str:
    wanted = str(claims.get("preferred_username") or claims.get("email") or "").split("@")[0]
    base = re.sub(r"[^\w.+-]", "", wanted)[:100] or "member"
    name, n = base, 1
    while User.objects.filter(username__iexact=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def user_for(claims: dict[str, Any]) -> User:
    """The account linked to the token's ``(iss, sub)``; a new one on first sign-in."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    found = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject)
    identity = found.first()
    if identity is None:
        user = User(
            username=_free_username(claims),
            email=str(claims.get("email", "")) if claims.get("email_verified") else "",
            first_name=str(claims.get("given_name", ""))[:150],
            last_name=str(claims.get("family_name", ""))[:150],
        )
        user.set_unusable_password()
        user.save()
        identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    identity.last_used_at = timezone.now()
    identity.save(update_fields=["last_used_at"])
    return identity.user
