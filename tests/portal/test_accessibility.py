"""Every portal page, for every kind of visitor, has the accessibility basics."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.a11y import problems
from tests.portal.conftest import World, release_url


def urls(world: World) -> list[str]:
    return [
        reverse("portal:home"),
        reverse("portal:login"),
        reverse("portal:help"),
        reverse("portal:problems"),
        reverse("portal:organisation", args=["acme"]),
        reverse("portal:product", args=["acme", "edge-router"]),
        release_url(world.published),
        release_url(world.draft),
        "/no/such/page/",
    ]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "viewer", "maintainer"])
def test_pages_have_the_accessibility_basics(world: World, who: str) -> None:
    client = world.client(who)
    for url in urls(world):
        response = client.get(url)
        assert response.status_code in {200, 302, 404}, url
        if response.status_code == 302:  # the login page for someone signed in
            continue
        assert problems(response.content.decode()) == [], url


def test_pages_after_actions_have_the_accessibility_basics(world: World) -> None:
    client = world.client("maintainer")
    created = client.post(
        reverse("portal:create-token", args=["acme"]),
        {"name": "ci", "scopes": ["vendor:release:write"], "lifetime_days": "10"},
    )
    refused = client.post(release_url(world.published, "withdraw"), {"reason": ""})
    conflict = client.post(release_url(world.published, "publish"))
    for response in (created, refused, conflict):
        assert problems(response.content.decode()) == []


def test_the_checker_finds_what_is_missing() -> None:
    html = (
        "<html><body><a href='#x'>skip</a><main id='main'><h1>a</h1><h3>b</h3>"
        "<input name='q'><table><tr><th>h</th></tr></table><button></button></main></body></html>"
    )
    found = problems(html)
    assert any("lang" in p for p in found)
    assert any("skip to #main" in p for p in found)
    assert any("h1 then h3" in p for p in found)
    assert any("'q'" in p for p in found)
    assert any("<th> without scope" in p for p in found)
    assert any("<button> has no text" in p for p in found)
