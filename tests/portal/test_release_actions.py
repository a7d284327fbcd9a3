"""Publish and withdraw from the release page: the buttons appear only for those allowed, the
POSTs work for them and are refused — with the right page and status — for everyone else."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clearroom.server.catalog.models import Release
from tests.portal.conftest import World, release_url


def state(release: Release) -> str:
    release.refresh_from_db()
    return release.state


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 404), ("outsider", 404), ("viewer", 403)]
)
def test_publish_is_refused(world: World, who: str, status: int) -> None:
    response = world.client(who).post(release_url(world.draft, "publish"))
    assert response.status_code == status
    assert state(world.draft) == "draft"
    html = response.content.decode()
    assert "Skip to main content" in html  # a portal page, not a bare error
    if status == 403:
        assert (
            "vendor:release:publish" in html and release_url(world.draft) in html
        )  # says why, links back


def test_maintainer_publishes_a_draft(world: World) -> None:
    client = world.client("maintainer")
    response = client.post(release_url(world.draft, "publish"))
    assert response.status_code == 302 and response["Location"] == release_url(world.draft)
    assert state(world.draft) == "published"
    html = client.get(release_url(world.draft)).content.decode()
    assert "is published and visible to everyone" in html
    assert "Withdraw this release" in html and "Publish 2.5.0-rc1" not in html
    assert (
        "edge-router-2.5.0-rc1.bin"
        in world.client("anonymous").get(release_url(world.draft)).content.decode()
    )


def test_publishing_twice_is_a_conflict_page(world: World) -> None:
    response = world.client("maintainer").post(release_url(world.published, "publish"))
    assert response.status_code == 409
    assert "only a draft can be published" in response.content.decode()


def test_publishing_without_artifacts_is_a_conflict_page(world: World) -> None:
    response = world.client("maintainer").post(release_url(world.hidden_draft, "publish"))
    assert response.status_code == 409
    assert "upload at least one before publishing" in response.content.decode()
    assert state(world.hidden_draft) == "draft"


def test_publish_and_withdraw_need_post(world: World) -> None:
    client = world.client("maintainer")
    assert client.get(release_url(world.draft, "publish")).status_code == 405
    assert client.get(release_url(world.published, "withdraw")).status_code == 405


def test_publish_needs_the_csrf_token(world: World) -> None:
    client = world.client("maintainer")
    client.handler.enforce_csrf_checks = True
    assert client.post(release_url(world.draft, "publish")).status_code == 403
    assert state(world.draft) == "draft"


def test_anonymous_withdraw_is_sent_to_sign_in(world: World) -> None:
    response = world.client("anonymous").post(
        release_url(world.published, "withdraw"), {"reason": "x"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert response["Location"] == reverse("portal:login") + "?next=" + release_url(world.published)
    assert state(world.published) == "published"


@pytest.mark.parametrize("who", ["outsider", "viewer"])
@pytest.mark.parametrize("reason", ["key leaked", ""])
def test_withdraw_is_refused(world: World, who: str, reason: str) -> None:
    response = world.client(who).post(release_url(world.published, "withdraw"), {"reason": reason})
    assert response.status_code == 403
    assert state(world.published) == "published"


def test_withdraw_needs_a_reason(world: World) -> None:
    response = world.client("maintainer").post(
        release_url(world.published, "withdraw"), {"reason": "  "}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Say why the release is withdrawn" in html and "Withdraw this release" in html
    assert state(world.published) == "published"


def test_maintainer_withdraws_with_a_reason(world: World) -> None:
    client = world.client("maintainer")
    response = client.post(
        release_url(world.published, "withdraw"), {"reason": "Signing key leaked"}
    )
    assert response.status_code == 302 and response["Location"] == release_url(world.published)
    world.published.refresh_from_db()
    assert world.published.state == "withdrawn"
    assert world.published.withdrawn_reason == "Signing key leaked"
    html = world.client("anonymous").get(release_url(world.published)).content.decode()
    assert "banner-withdrawn" in html and "Signing key leaked" in html


def test_withdrawing_a_draft_is_a_conflict_page(world: World) -> None:
    response = world.client("maintainer").post(
        release_url(world.draft, "withdraw"), {"reason": "oops"}
    )
    assert response.status_code == 409
    assert "only a published release can be withdrawn" in response.content.decode()
    assert state(world.draft) == "draft"
