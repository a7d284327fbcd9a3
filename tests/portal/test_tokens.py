"""API tokens on the organisation page: created by members only, within their role; the secret
is shown once and only its hash is stored; revoking works for the token's own user only."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from clearroom.server.accounts.models import ApiToken
from clearroom.server.accounts.tokens import authenticate_token, issue_token
from clearroom.server.errors import Unauthenticated
from tests.portal.conftest import World

CREATE = reverse("portal:create-token", args=["acme"])
ORG = reverse("portal:organisation", args=["acme"])
TOKEN = re.compile(r"clr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def create(world: World, who: str, **data: object) -> object:
    form = {
        "name": "release pipeline",
        "scopes": ["material:confidential:read"],
        "lifetime_days": "30",
    }
    form.update(data)  # type: ignore[arg-type]
    return world.client(who).post(CREATE, form)


def test_token_is_shown_once_and_only_its_hash_is_stored(world: World) -> None:
    client = world.client("viewer")
    response = client.post(
        CREATE, {"name": "ci", "scopes": ["material:confidential:read"], "lifetime_days": "30"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    plaintext = TOKEN.search(html).group(0)  # type: ignore[union-attr]
    assert "shown only this once" in html
    token = ApiToken.objects.get()
    _, key_id, secret = plaintext.split("_", 2)
    assert token.key_id == key_id and token.user == world.viewer
    assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.values().get().values())
    assert secret not in stored
    assert token.scopes == ["material:confidential:read"] and token.product is None
    assert 29 <= (token.expires_at - token.created_at).days <= 30
    assert authenticate_token(plaintext) == token

    again = client.get(ORG).content.decode()
    assert secret not in again and TOKEN.search(again) is None
    assert f"<code>{key_id}</code>" in again and "active" in again


def test_maintainer_can_narrow_a_token_to_a_product(world: World) -> None:
    response = create(
        world,
        "maintainer",
        scopes=["vendor:release:write", "vendor:release:publish"],
        product=str(world.product.pk),
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    token = ApiToken.objects.get()
    assert token.product == world.product
    assert token.scopes == ["vendor:release:publish", "vendor:release:write"]


@pytest.mark.parametrize(
    ("who", "data", "message"),
    [
        ("viewer", {"scopes": ["vendor:release:publish"]}, "Select a valid choice"),
        ("maintainer", {"scopes": ["org:member:manage"]}, "Select a valid choice"),
        ("viewer", {"scopes": []}, "Choose at least one scope."),
        ("viewer", {"lifetime_days": "400"}, "less than or equal to 366"),
        ("viewer", {"name": ""}, "This field is required."),
    ],
)
def test_invalid_token_requests_show_the_form_again(
    world: World, who: str, data: dict[str, object], message: str
) -> None:
    response = create(world, who, **data)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert not ApiToken.objects.exists()


def test_an_outsider_cannot_create_a_token_for_the_vendor(world: World) -> None:
    response = create(world, "outsider")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not ApiToken.objects.exists()


def test_anonymous_token_request_is_sent_to_sign_in(world: World) -> None:
    response = create(world, "anonymous")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"].startswith(reverse("portal:login"))  # type: ignore[index]
    assert not ApiToken.objects.exists()


def test_token_list_shows_only_my_tokens(world: World) -> None:
    mine, _ = issue_token(
        world.viewer, world.vendor, name="mine", scopes=["material:confidential:read"]
    )
    theirs, _ = issue_token(
        world.maintainer, world.vendor, name="theirs", scopes=["vendor:release:write"]
    )
    html = world.client("viewer").get(ORG).content.decode()
    assert mine.key_id in html and theirs.key_id not in html


def test_revoke_my_token(world: World) -> None:
    token, plaintext = issue_token(
        world.viewer, world.vendor, name="ci", scopes=["material:confidential:read"]
    )
    client = world.client("viewer")
    response = client.post(reverse("portal:revoke-token", args=["acme", token.key_id]))
    assert response.status_code == 302 and response["Location"] == ORG
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(Unauthenticated):
        authenticate_token(plaintext)
    html = client.get(ORG).content.decode()
    assert "is revoked" in html and "revoked" in html
    assert reverse("portal:revoke-token", args=["acme", token.key_id]) not in html


@pytest.mark.parametrize(
    ("who", "status"), [("maintainer", 404), ("outsider", 403), ("anonymous", 302)]
)
def test_nobody_else_can_revoke_my_token(world: World, who: str, status: int) -> None:
    token, _ = issue_token(
        world.viewer, world.vendor, name="ci", scopes=["material:confidential:read"]
    )
    response = world.client(who).post(reverse("portal:revoke-token", args=["acme", token.key_id]))
    assert response.status_code == status
    token.refresh_from_db()
    assert token.revoked_at is None
