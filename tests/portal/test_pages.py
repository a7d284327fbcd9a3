"""Who sees what on the portal's read pages: anonymous, a signed-in outsider, a vendor viewer and
a vendor maintainer."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clearroom.server.catalog.models import AccessGrant, Release
from tests.portal.conftest import FIRMWARE, SECRET_SOURCE, World, release_url

EVERYONE = ["anonymous", "outsider", "viewer", "maintainer"]
OUTSIDERS = ["anonymous", "outsider"]
MEMBERS = ["viewer", "maintainer"]


def page(world: World, who: str, url: str, status: int = 200) -> str:
    response = world.client(who).get(url)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


# --- home -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_home_shows_public_releases_and_organisations_only(world: World, who: str) -> None:
    html = page(world, who, reverse("portal:home"))
    assert "What is Clearroom?" in html
    assert release_url(world.published) in html
    assert "2.5.0-rc1" not in html and "Lab Box" not in html  # drafts are not a showcase
    assert "Acme Networks" in html and "Network Regulator" in html


def test_home_lists_newest_first_with_state(world: World) -> None:
    world.published.state = Release.State.WITHDRAWN
    world.published.save()
    newer = Release.objects.create(
        product=world.product, version="2.4.2", state="published", published_at=timezone.now()
    )
    html = page(world, "anonymous", reverse("portal:home"))
    assert html.index(release_url(newer)) < html.index(release_url(world.published))
    assert "Withdrawn" in html and "Published" in html


def test_header_shows_who_is_signed_in_and_their_organisations(world: World) -> None:
    html = page(world, "viewer", reverse("portal:home"))
    assert "Signed in as <strong>vic</strong>" in html
    assert reverse("portal:organisation", args=["acme"]) in html and "(viewer)" in html
    assert reverse("portal:logout") in html
    assert "Sign in" not in page(world, "viewer", reverse("portal:home")).split("<main")[0]
    assert "Sign in" in page(world, "anonymous", reverse("portal:home")).split("<main")[0]


# --- organisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_organisation_page_for_outsiders(world: World, who: str) -> None:
    html = page(world, who, reverse("portal:organisation", args=["acme"]))
    assert "Acme Networks" in html and "Vendor (manufacturer)" in html
    assert 'href="https://acme.example"' in html
    assert "Edge Router" in html
    assert "Lab Box" not in html  # only drafts: invisible
    assert "Members" not in html and "olga" not in html
    assert "Create an API token" not in html


@pytest.mark.parametrize("who", MEMBERS)
def test_organisation_page_for_members(world: World, who: str) -> None:
    html = page(world, who, reverse("portal:organisation", args=["acme"]))
    assert "Lab Box" in html
    assert "Members" in html
    for username, role in (("olga", "Owner"), ("mia", "Maintainer"), ("vic", "Viewer")):
        assert f'<th scope="row">{username}</th>' in html
        assert f"<td>{role}</td>" in html
    assert "Create an API token" in html
    assert "You hold no API token for this organisation." in html


@pytest.mark.parametrize(
    ("who", "offered", "withheld"),
    [
        (
            "viewer",
            {"material:confidential:read"},
            {"vendor:release:publish", "vendor:release:write", "org:member:manage"},
        ),
        (
            "maintainer",
            {
                "vendor:product:write",
                "vendor:release:write",
                "vendor:release:publish",
                "material:confidential:read",
            },
            {"org:member:manage"},
        ),
        ("owner", {"org:member:manage", "vendor:release:publish"}, set()),
    ],
)
def test_token_form_offers_only_the_scopes_of_the_role(
    world: World, who: str, offered: set[str], withheld: set[str]
) -> None:
    html = page(world, who, reverse("portal:organisation", args=["acme"]))
    for scope in offered:
        assert f'name="scopes" value="{scope}"' in html
    for scope in withheld:
        assert f'name="scopes" value="{scope}"' not in html


def test_website_that_is_not_http_is_not_a_link(world: World) -> None:
    world.regulator.website = "javascript:alert(1)"
    world.regulator.save()
    html = page(world, "anonymous", reverse("portal:organisation", args=["netreg"]))
    assert 'href="javascript:' not in html
    assert "No product of this organisation is visible to you." in html


def test_unknown_organisation_is_a_portal_404(world: World) -> None:
    html = page(world, "viewer", reverse("portal:organisation", args=["nobody"]), status=404)
    assert "Not found" in html and "organisation &#x27;nobody&#x27; does not exist" in html
    assert "Skip to main content" in html


# --- product --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_product_page(world: World, who: str) -> None:
    html = page(world, who, reverse("portal:product", args=["acme", "edge-router"]))
    assert "A 5G edge router." in html and "Network equipment / 5G" in html
    assert release_url(world.published) in html and "2030-12-31" in html
    assert (release_url(world.draft) in html) is (who in MEMBERS)
    assert reverse("api:product", kwargs={"org": "acme", "product": "edge-router"}) in html


@pytest.mark.parametrize("who", EVERYONE)
def test_product_with_only_drafts_is_invisible_to_outsiders(world: World, who: str) -> None:
    url = reverse("portal:product", args=["acme", "lab-box"])
    if who in OUTSIDERS:
        html = page(world, who, url, status=404)
        assert "Lab Box" not in html
    else:
        assert "0.1" in page(world, who, url)


# --- release --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_published_release_lists_files_the_viewer_may_see(world: World, who: str) -> None:
    html = page(world, who, release_url(world.published))
    fw, secret, sbom = world.firmware, world.confidential, world.sbom
    assert "edge-router-2.4.1.bin" in html and fw.sha256 in html and fw.sha512 in html
    assert "sbom.cdx.json" in html and sbom.sha256 in html and "SBOM" in html
    assert "computing…" in html  # the SBOM's SHA-512 is not known yet
    assert "3.1 KiB" in html and f"{len(FIRMWARE):,} bytes" in html
    download = reverse(
        "api:artifact-content",
        kwargs={"org": "acme", "product": "edge-router", "version": "2.4.1", "name": fw.name},
    )
    assert f'href="{download}"' in html
    api = reverse("api:release", args=["acme", "edge-router", "2.4.1"])
    assert f'href="{api}"' in html
    assert f"openssl dgst -sha256 {fw.name}" in html
    assert "Fixes CVE-2025-0001." in html and "2030-12-31" in html
    if who in MEMBERS:
        assert secret.name in html and secret.sha256 in html and "Confidential" in html
    else:
        assert secret.name not in html and secret.sha256 not in html
    assert "Publish 2.4.1" not in html
    assert ("Withdraw this release" in html) is (who == "maintainer")


def test_confidential_files_are_listed_for_an_organisation_with_a_grant(world: World) -> None:
    assert world.confidential.name not in page(world, "outsider", release_url(world.published))
    AccessGrant.objects.create(product=world.product, grantee=world.regulator)
    assert world.confidential.name in page(world, "outsider", release_url(world.published))


@pytest.mark.parametrize("who", EVERYONE)
def test_draft_release_is_404_for_outsiders(world: World, who: str) -> None:
    if who in OUTSIDERS:
        html = page(world, who, release_url(world.draft), status=404)
        assert "edge-router-2.5.0-rc1.bin" not in html
        return
    html = page(world, who, release_url(world.draft))
    assert "banner-draft" in html and "Only members of Acme Networks can see this release" in html
    assert "edge-router-2.5.0-rc1.bin" in html
    assert ("Publish 2.5.0-rc1" in html) is (who == "maintainer")
    assert "Withdraw this release" not in html


def test_withdrawn_release_shows_a_banner_with_the_reason(world: World) -> None:
    world.published.state = Release.State.WITHDRAWN
    world.published.withdrawn_at = timezone.now()
    world.published.withdrawn_reason = "Bootloader signing key leaked <script>"
    world.published.save()
    html = page(world, "anonymous", release_url(world.published))
    assert "banner-withdrawn" in html
    assert "Bootloader signing key leaked &lt;script&gt;" in html
    assert "Withdraw this release" not in page(world, "maintainer", release_url(world.published))


def test_unknown_release_is_404(world: World) -> None:
    url = reverse("portal:release", args=["acme", "edge-router", "9.9"])
    assert "does not exist or is not visible to you" in page(world, "maintainer", url, status=404)


def test_download_links_work_with_the_browser_session(world: World) -> None:
    """The release page links to the API's download URL, which accepts the session for GET."""
    html = page(world, "viewer", release_url(world.published))
    url = reverse(
        "api:artifact-content",
        kwargs={
            "org": "acme",
            "product": "edge-router",
            "version": "2.4.1",
            "name": world.confidential.name,
        },
    )
    assert f'href="{url}"' in html
    response = world.client("viewer").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SECRET_SOURCE
    assert world.client("anonymous").get(url).status_code == 404
