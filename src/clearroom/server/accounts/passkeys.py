"""Passkeys (WebAuthn) as a second factor, beside the authenticator app: registration and
assertion ceremonies checked by py_webauthn against this centre's origin (``base_url``) and
relying-party id (its host), with the challenge kept in the person's session."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from clearroom.server.accounts.models import Passkey, User
from clearroom.server.errors import Invalid

MAX_PASSKEYS = 10


def _relying_party() -> tuple[str, str]:
    """(rp id, origin): the host of ``base_url``, and ``base_url`` itself."""
    origin = settings.CONFIG.base_url.rstrip("/")
    return urlsplit(origin).hostname or "localhost", origin


def registration_options(user: User) -> tuple[str, bytes]:
    """The options for ``navigator.credentials.create`` (JSON) and their challenge."""
    rp_id, _ = _relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings.CONFIG.centre_name,
        user_id=str(user.pk).encode(),
        user_name=user.get_username(),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
            for p in user.passkeys.all()
        ],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return options_to_json(options), options.challenge


def register(user: User, credential: str, challenge: bytes, name: str) -> Passkey:
    if user.passkeys.count() >= MAX_PASSKEYS:
        raise Invalid(f"at most {MAX_PASSKEYS} passkeys per person; remove one first")
    rp_id, origin = _relying_party()
    try:
        verified = verify_registration_response(
            credential=_credential(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise Invalid(f"passkey: the authenticator's answer does not check out ({exc})") from None
    return Passkey.objects.create(
        user=user,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name.strip() or "passkey")[:100],
    )


def authentication_options(user: User) -> tuple[str, bytes]:
    rp_id, _ = _relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
            for p in user.passkeys.all()
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def authenticate(user: User, credential: str, challenge: bytes) -> bool:
    """Does ``credential`` prove possession of one of the person's passkeys?"""
    try:
        parsed = _credential(credential)
        stored = Passkey.objects.get(user=user, credential_id=parsed["id"])
    except (Invalid, Passkey.DoesNotExist):
        return False
    rp_id, origin = _relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(stored.public_key),
            credential_current_sign_count=stored.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return False
    Passkey.objects.filter(pk=stored.pk).update(
        sign_count=verified.new_sign_count, last_used_at=timezone.now()
    )
    return True


def _credential(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise Invalid("passkey: the answer is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise Invalid("passkey: the answer is not a WebAuthn credential")
    return value
