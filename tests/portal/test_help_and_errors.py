"""Help pages, signing in and out, and error pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clearroom.server.accounts.models import User
from clearroom.server.api.problems import PROBLEM_TYPES
from clearroom.server.portal.views import PROBLEMS
from tests.portal.conftest import World

CODES = [
    "not-found",
    "forbidden",
    "authentication-required",
    "conflict",
    "invalid-input",
    "digest-mismatch",
    "digest-required",
    "content-too-large",
    "length-required",
    "bad-request",
]


def test_help_page(client: Client, db: None) -> None:
    html = client.get(reverse("portal:help")).content.decode()
    for needle in (
        "Roles",
        "Maintainer",
        "vendor:release:publish",
        "API tokens",
        "openssl dgst -sha256",
        'href="/api/docs"',
        "Authorization: Bearer",
        "/api/files?sha256=",
    ):
        assert needle in html


def test_problem_types_of_the_api_point_at_the_problems_page(client: Client, db: None) -> None:
    assert reverse("portal:problems") + "#" == PROBLEM_TYPES
    html = client.get(reverse("portal:problems")).content.decode()
    assert [code for code, *_ in PROBLEMS] == CODES
    for code in CODES:
        assert f'id="{code}"' in html


def test_sign_in_and_out(db: None) -> None:
    User.objects.create_user("ada", password="correct horse battery staple")
    client = Client()
    html = client.get(reverse("portal:login")).content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    response = client.post(
        reverse("portal:login"), {"username": "ada", "password": "wrong", "next": "/help/"}
    )
    assert response.status_code == 200 and "Please enter a correct" in response.content.decode()
    response = client.post(
        reverse("portal:login"),
        {"username": "ada", "password": "correct horse battery staple", "next": "/help/"},
    )
    assert response.status_code == 302 and response["Location"] == "/help/"
    assert "Signed in as <strong>ada</strong>" in client.get("/help/").content.decode()
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert "Signed in as" not in client.get("/help/").content.decode()


def test_unknown_address_is_the_portal_404(client: Client, db: None) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Skip to main content" in html and "There is nothing at this address." in html


def test_a_bad_bearer_token_on_a_portal_page_is_a_401_page(world: World) -> None:
    response = Client().get(
        reverse("portal:organisation", args=["acme"]), HTTP_AUTHORIZATION="Bearer clr_nope_nope"
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "unknown or wrong token" in response.content.decode()


@pytest.mark.parametrize("view", ["page_not_found", "permission_denied"])
def test_error_handlers_for_the_root_urlconf(rf, db: None, view: str) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    from clearroom.server.portal import errors

    request = rf.get("/x")
    request.user = AnonymousUser()
    response = getattr(errors, view)(request, Exception("x"))
    assert response.status_code in {403, 404}
    assert "Skip to main content" in response.content.decode()


def test_server_error_page_renders_without_a_request() -> None:
    """Django renders 500.html with no context at all; it must not need any."""
    from django.template.loader import render_to_string

    from tests.portal.a11y import problems

    html = render_to_string("500.html")
    assert "Server error" in html and problems(html) == []
