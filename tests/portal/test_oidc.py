"""Signing in with an OpenID Connect provider: a real provider on loopback (tests/portal/
oidc_provider.py), Authlib's checks, and a refusal page for everything a provider can get wrong."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from clearroom.server.accounts import oidc
from clearroom.server.accounts.models import Membership, OidcIdentity, Organisation, User
from clearroom.server.accounts.signin import MUST_ENROLL, start_enrolment
from clearroom.server.audit.models import AuditEvent
from clearroom.server.config import Config, ConfigError
from tests.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings) -> Iterator[Provider]:  # type: ignore[no-untyped-def]
    found = Provider()
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        oidc_issuer=found.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_label="Example ID",
        base_url="http://testserver",
    )
    oidc._client.cache_clear()
    yield found
    oidc._client.cache_clear()
    found.close()


def sign_in(client: Client, next_url: str = "/") -> object:
    """The browser's round trip: to the provider and back with its answer."""
    start = client.get(reverse("portal:oidc"), {"next": next_url})
    assert start.status_code == 302, start.content.decode()[:500]
    at_provider = httpx.get(start["Location"], follow_redirects=False)
    back = urlparse(at_provider.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def test_the_first_sign_in_makes_an_account_and_the_next_finds_it(provider: Provider) -> None:
    User.objects.create_user("ingrid", password="a-local-password")  # never taken over
    client = Client()
    answer = sign_in(client, "/help/")
    assert answer.status_code == 302 and answer["Location"] == "/help/"
    assert signed_in_as(client) == "ingrid-2"
    identity = OidcIdentity.objects.get()
    assert (identity.issuer, identity.subject) == (provider.issuer, "u-1")
    assert not identity.user.has_usable_password()

    provider.next_user = {"sub": "u-1", "preferred_username": "renamed"}
    again = Client()
    sign_in(again)
    assert signed_in_as(again) == "ingrid-2"  # the subject decides, not the name
    assert OidcIdentity.objects.count() == 1
    assert AuditEvent.objects.filter(action="account:session:create", outcome="allowed").count()


def test_the_sign_in_page_offers_the_provider(provider: Provider) -> None:
    html = Client().get(reverse("portal:login")).content.decode()
    assert "Sign in with Example ID" in html and reverse("portal:oidc") in html


@pytest.mark.parametrize("fault", ["expired", "audience", "nonce", "issuer", "key"])
def test_a_wrong_id_token_is_refused(provider: Provider, fault: str) -> None:
    provider.misbehave = fault
    client = Client()
    answer = sign_in(client)
    assert answer.status_code == 400
    assert "The sign-in could not be confirmed" in answer.content.decode()
    assert signed_in_as(client) is None
    assert not OidcIdentity.objects.exists()
    refused = AuditEvent.objects.get(action="account:session:create", outcome="denied")
    assert refused.target == "oidc"


def test_an_answer_cannot_be_replayed_or_forged(provider: Provider) -> None:
    client = Client()
    start = client.get(reverse("portal:oidc"))
    back = urlparse(httpx.get(start["Location"], follow_redirects=False).headers["location"])
    callback = f"{back.path}?{back.query}"
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code == 400  # the state was used up
    stranger = Client()  # a callback for a sign-in this browser never started
    assert stranger.get(callback).status_code == 400
    assert signed_in_as(stranger) is None


def test_the_provider_saying_no_is_explained(provider: Provider) -> None:
    answer = Client().get(
        reverse("portal:oidc-callback"),
        {"error": "access_denied", "error_description": "<b>user cancelled</b>"},
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "did not sign you in" in html and "<b>user" not in html  # escaped


def test_a_provider_that_is_down_is_explained(provider: Provider, settings) -> None:  # type: ignore[no-untyped-def]
    provider.close()
    answer = Client().get(reverse("portal:oidc"))
    assert answer.status_code == 400
    assert "did not answer" in answer.content.decode()


def test_without_a_provider_the_routes_are_not_found(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG = dataclasses.replace(settings.CONFIG, oidc_issuer="")
    assert Client().get(reverse("portal:oidc")).status_code == 404
    assert Client().get(reverse("portal:oidc-callback")).status_code == 404
    assert "Sign in with" not in Client().get(reverse("portal:login")).content.decode()


def test_a_second_factor_is_still_asked_unless_the_provider_used_several(
    provider: Provider, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG = dataclasses.replace(settings.CONFIG, require_second_factor=True)
    client = Client()
    sign_in(client)
    user = User.objects.get(username="ingrid")
    lab = Organisation.objects.create(slug="lab", name="Lab", kind="lab")
    Membership.objects.create(user=user, organisation=lab, role="evaluator")

    device = start_enrolment(user)
    device.confirmed_at = device.created_at
    device.save()
    client = Client()
    assert sign_in(client)["Location"] == reverse("portal:second-factor")
    assert signed_in_as(client) is None

    provider.next_user = {**provider.next_user, "amr": ["pwd", "mfa"]}
    client = Client()
    assert sign_in(client)["Location"] == "/"
    assert signed_in_as(client) == "ingrid"

    device.delete()  # an evaluator without one of Clearroom's: the provider's counts
    client = Client()
    sign_in(client)
    assert not client.session.get(MUST_ENROLL)
    provider.next_user = {"sub": "u-1"}
    client = Client()
    sign_in(client)
    assert client.session.get(MUST_ENROLL)  # a password-only provider sign-in does not


def test_the_issuer_must_be_https_except_on_loopback() -> None:
    with pytest.raises(ConfigError, match="https"):
        Config(oidc_issuer="http://id.example", oidc_client_id="x").validate()
    with pytest.raises(ConfigError, match="oidc_client_id"):
        Config(oidc_issuer="https://id.example").validate()
    Config(oidc_issuer="https://id.example", oidc_client_id="x").validate()
    Config(oidc_issuer="http://127.0.0.1:8080", oidc_client_id="x").validate()
