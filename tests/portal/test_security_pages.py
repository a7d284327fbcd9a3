"""The portal's security pages with real data: a release whose SBOM is read into components,
matched against an advisory store, with the vendor's VEX applied and evaluated over several days;
who sees what (drafts, confidential SBOMs), following a product, notifications, the history chart
and its table, accessibility and bounded queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from clearroom.server.accounts.models import User
from clearroom.server.authz import Actor
from clearroom.server.catalog import services as catalog
from clearroom.server.catalog.models import Confidentiality, Document, Release
from clearroom.server.notifications.models import Notification
from clearroom.server.portal import charts
from clearroom.server.services import blob_store
from clearroom.server.vulnerabilities import services
from clearroom.server.vulnerabilities.models import (
    Component,
    Evaluation,
    Finding,
    Follow,
    ReleaseSbom,
)
from tests.portal.a11y import problems
from tests.portal.conftest import World, add_artifact, release_url

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
VERSION = "3.0.0"


@pytest.fixture
def no_jobs(monkeypatch):
    """Jobs the services would queue are recorded, not run: the tests run them directly."""
    queued: list[str] = []

    def record(kind, **_):
        queued.append(kind)
        return len(queued)

    monkeypatch.setattr(catalog, "enqueue", record)
    monkeypatch.setattr(services, "enqueue", record)
    return queued


def add_document(release: Release, name: str, data: bytes, kind: str, **fields) -> Document:
    blob = blob_store().put_bytes(data)
    return Document.objects.create(
        release=release, name=name, kind=kind, size=blob.size, sha256=blob.sha256, **fields
    )


def scanned_release(world: World, version: str = VERSION, *, publish: bool = True) -> Release:
    """A release with the scan SBOM and VEX, read and evaluated."""
    actor = Actor(user=world.maintainer)
    release = catalog.create_release(actor, world.product, version=version)
    add_artifact(release, f"edge-router-{version}.bin", f"firmware {version}".encode())
    sbom = add_document(release, "app.cdx.json", (DATA / "app.cdx.json").read_bytes(), "sbom")
    add_document(release, "vex.openvex.json", (DATA / "vex.openvex.json").read_bytes(), "vex")
    if publish:
        release = catalog.publish_release(actor, release)
    services.ingest_sbom(sbom)
    services.evaluate(release)
    return release


@pytest.fixture
def scanned(world: World, scan_advisories, no_jobs) -> Release:
    return scanned_release(world)


def url(name: str, release: Release) -> str:
    p = release.product
    return reverse(f"portal:{name}", args=[p.vendor.slug, p.slug, release.version])


def page(client: Client, address: str, status: int = 200) -> str:
    response = client.get(address)
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def text(html: str) -> str:
    """The page's words, tags removed and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ").split())


# --- the release page's summary -------------------------------------------------------------


def test_release_page_summarises_sbom_quality_and_open_findings(world: World, scanned) -> None:
    html = page(world.client("anonymous"), release_url(scanned))
    words = text(html)
    assert "4 components listed in 1 SBOM" in words
    assert "57 / 100" in words and "50 / 100" in words  # NTIA, BSI
    assert f'href="{url("components", scanned)}"' in html
    assert f'href="{url("vulnerabilities", scanned)}?severity=critical"' in html
    assert "Critical 1 open critical finding" in words
    assert "severity-low" not in html  # the parser finding is not affected (VEX)


def test_release_page_without_sbom_says_so(world: World, scan_advisories, no_jobs) -> None:
    html = page(world.client("anonymous"), release_url(world.published))
    assert "No SBOM of this release is visible to you" in html


# --- components -----------------------------------------------------------------------------


def test_components_are_listed_with_their_open_findings(world: World, scanned) -> None:
    html = page(world.client("anonymous"), url("components", scanned))
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<th scope="row">([^<]+)</th>(.*?)</tr>', html, re.S)
    }
    assert set(rows) == {"left-pad", "parser", "vendored-thing", "webkit"}
    assert "<code>pkg:npm/webkit@2.0.0</code>" in rows["webkit"]
    assert ">1<span" in rows["webkit"]  # GHSA-scan-0001, critical and affected
    assert text(rows["parser"]).endswith("0")  # not affected, says the vendor's VEX
    assert "not checked (no package URL)" in rows["vendored-thing"]
    assert "not stated" in rows["left-pad"]  # neither licence nor supplier


def test_components_page_shows_quality_and_what_is_missing(world: World, scanned) -> None:
    words = text(page(world.client("anonymous"), url("components", scanned)))
    assert "NTIA (NTIA minimum elements (2021)) 57 / 100" in words
    assert "supplier — present in 0 %" in words
    assert "version — present in 80 %" in words
    assert "author: the SBOM does not name its author" in words
    assert "BSI TR-03183-2 (BSI TR-03183-2 v2.1.0) 50 / 100" in words
    assert "and 3 more elements" in words  # BSI lacks 8 elements, 5 are shown


def test_components_search_by_name_or_purl(world: World, scanned) -> None:
    client = world.client("anonymous")
    words = text(page(client, url("components", scanned) + "?q=LEFT"))
    assert "1 component matching “LEFT”" in words and "left-pad" in words
    assert "webkit" not in words
    html = page(client, url("components", scanned) + "?q=%40acme/parser")  # as people write it
    assert "<code>pkg:npm/%40acme/parser@1.4.0</code>" in html and "left-pad" not in html
    assert "No component matches “nothing”" in page(
        client, url("components", scanned) + "?q=nothing"
    )


def test_components_are_paginated_by_fifty(world: World, scanned) -> None:
    sbom = ReleaseSbom.objects.get(release=scanned)
    Component.objects.bulk_create(
        Component(release=scanned, sbom=sbom, ref=f"x{i}", name=f"extra-{i:03}", version="1")
        for i in range(60)
    )
    client = world.client("anonymous")
    first = page(client, url("components", scanned))
    assert "64 components, page 1 of 2" in text(first)
    assert first.count('<th scope="row">') == 50
    assert 'href="?page=2" rel="next"' in first
    second = page(client, url("components", scanned) + "?page=2")
    assert second.count('<th scope="row">') == 14 and "webkit" in second
    searched = page(client, url("components", scanned) + "?q=extra")
    assert 'href="?q=extra&amp;page=2"' in searched


def test_sbom_warnings_and_read_errors_are_shown(world: World, scanned) -> None:
    ReleaseSbom.objects.filter(release=scanned).update(warnings=["component 7: bad purl"])
    bad = add_document(scanned, "bad.cdx.json", b'{"bomFormat": "CycloneDX", "compo', "sbom")
    services.ingest_sbom(bad)
    words = text(page(world.client("anonymous"), url("components", scanned)))
    assert "Read with 1 warning: component 7: bad purl" in words
    assert "bad.cdx.json" in words and "This SBOM could not be read" in words
    release_words = text(page(world.client("anonymous"), release_url(scanned)))
    assert "bad.cdx.json Could not be read:" in release_words


# --- vulnerabilities ------------------------------------------------------------------------


def test_vulnerabilities_shows_open_findings_by_default(world: World, scanned) -> None:
    html = page(world.client("anonymous"), url("vulnerabilities", scanned))
    words = text(html)
    assert '<a href="https://osv.dev/vulnerability/GHSA-scan-0001"' in html
    assert '<a href="https://osv.dev/vulnerability/CVE-2099-1001"' in html
    assert "GHSA-scan-0002" not in html  # not affected: not open
    assert "1 finding: open (affected, unknown, under investigation)" in words
    assert "Critical 9.8" in words and "webkit 2.0.0" in words
    assert "<code>2.0.1</code>" in html  # fixed in
    assert "app → webkit" in html  # the dependency path
    snapshot = Evaluation.objects.get(release=scanned).snapshot
    assert f'snapshot <code class="digest">{snapshot}</code>' in html


def test_vulnerabilities_with_vex_statement_and_filters(world: World, scanned) -> None:
    client = world.client("anonymous")
    words = text(page(client, url("vulnerabilities", scanned) + "?status=all"))
    assert "2 findings" in words
    assert "Not affected (VEX) Justification vulnerable_code_not_in_execute_path" in words
    assert "Impact The streaming mode is never enabled." in words
    low = page(client, url("vulnerabilities", scanned) + "?status=not_affected&severity=low")
    assert "GHSA-scan-0002" in low and "GHSA-scan-0001" not in low
    none = text(page(client, url("vulnerabilities", scanned) + "?severity=high"))
    assert "No finding: open (affected, unknown, under investigation), high severity." in none
    bad = page(client, url("vulnerabilities", scanned) + "?severity=apocalyptic")
    assert "That filter is not known" in bad and "GHSA-scan-0001" in bad


def test_resolved_findings_are_kept_and_can_be_shown(world: World, scanned) -> None:
    Finding.objects.filter(advisory_id="GHSA-scan-0001").update(
        resolved_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    client = world.client("anonymous")
    assert "GHSA-scan-0001" not in page(client, url("vulnerabilities", scanned))
    words = text(page(client, url("vulnerabilities", scanned) + "?status=resolved"))
    assert "1 finding: no longer applying." in words
    assert "No longer applies since 2026-12-01 ; was: Affected" in words


def test_vulnerabilities_link_to_the_api_exports(world: World, scanned) -> None:
    html = page(world.client("anonymous"), url("vulnerabilities", scanned) + "?severity=critical")
    api = reverse(
        "api:vulnerabilities", kwargs={"org": "acme", "product": "edge-router", "version": VERSION}
    )
    for fmt in ("json", "csv", "cyclonedx"):
        assert f'href="{api}?format={fmt}&amp;severity=critical&amp;status=open"' in html


# --- the chart ------------------------------------------------------------------------------


def _history(release: Release) -> None:
    """Three earlier days of evaluations (two on one day: the later one counts)."""
    for at, counts in (
        (datetime(2026, 1, 1, 9, tzinfo=UTC), {"critical": 2, "high": 1}),
        (datetime(2026, 1, 1, 18, tzinfo=UTC), {"critical": 3, "medium": 4}),
        (datetime(2026, 1, 2, 9, tzinfo=UTC), {"low": 1, "weird": 2}),
    ):
        Evaluation.objects.create(
            release=release, at=at, snapshot="sha256:x", open_by_severity=counts
        )


def _table_rows(html: str) -> dict[str, list[str]]:
    table = html[html.index('<table class="chart-data">') :]
    table = table[: table.index("</table>")]
    rows = {}
    for m in re.finditer(r'<tr><th scope="row"><time datetime="([^"]+)">.*?</th>(.*?)</tr>', table):
        rows[m.group(1)] = re.findall(r"<td>(\d+)</td>", m.group(2))
    return rows


def test_the_chart_has_an_accessible_table_of_its_values(world: World, scanned) -> None:
    _history(scanned)
    html = page(world.client("anonymous"), url("vulnerabilities", scanned))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert 'role="img" aria-labelledby="history-title history-desc"' in html
    assert '<title id="history-title">Open vulnerability findings by severity over time' in html
    today = Evaluation.objects.filter(release=scanned).latest("at").at.date().isoformat()
    assert f"On {today}: 1 open (1 critical)." in html  # the description states the latest
    rows = _table_rows(html)
    # Columns: critical, high, medium, low, none, unknown, total; newest first.
    assert list(rows) == [today, "2026-01-02", "2026-01-01"]
    assert rows[today] == ["1", "0", "0", "0", "0", "0", "1"]
    assert rows["2026-01-02"] == ["0", "0", "0", "1", "0", "2", "3"]  # "weird" is unknown
    assert rows["2026-01-01"] == ["3", "0", "4", "0", "0", "0", "7"]  # the day's last
    assert "<title>2026-01-01: 4 medium</title>" in html


def test_chart_points_and_scale() -> None:
    assert charts.open_findings_chart([], ident="x", subject="s") is None
    many = [
        Evaluation(at=datetime(2026, 1, d, tzinfo=UTC), snapshot="s", open_by_severity={"high": d})
        for d in range(1, 31)
    ]
    points = charts.daily_points(many, days=10, counted="open_by_severity")
    assert [p.day.day for p in points] == list(range(21, 31))
    chart = charts.open_findings_chart(points, ident="x", subject="s")
    assert chart is not None and chart.latest.total == 30
    assert chart.svg.count('<rect class="bar"') == 10
    assert ">30</text>" in chart.svg  # the top gridline is labelled


def test_product_page_shows_the_latest_published_releases_chart(world: World, scanned) -> None:
    html = page(world.client("anonymous"), reverse("portal:product", args=["acme", "edge-router"]))
    assert f"Open vulnerabilities of {VERSION}, the latest published release" in html
    assert 'aria-labelledby="product-history-title product-history-desc"' in html
    assert f'href="{url("vulnerabilities", scanned)}"' in html


# --- confidentiality ------------------------------------------------------------------------


def test_a_draft_releases_pages_are_for_the_vendors_members(
    world: World, scan_advisories, no_jobs
) -> None:
    draft = scanned_release(world, "3.1.0-rc1", publish=False)
    for name in ("components", "vulnerabilities"):
        for who in ("anonymous", "outsider"):
            page(world.client(who), url(name, draft), status=404)
        assert "webkit" in page(world.client("viewer"), url(name, draft))
    portfolio = page(world.client("maintainer"), reverse("portal:portfolio", args=["acme"]))
    assert "3.1.0-rc1" not in portfolio  # published releases only


def test_a_confidential_sboms_contents_stay_with_who_may_read_it(world: World, scanned) -> None:
    Document.objects.filter(release=scanned, kind="sbom").update(
        confidentiality=Confidentiality.CONFIDENTIAL
    )
    anonymous = world.client("anonymous")
    for address in (
        url("components", scanned),
        url("vulnerabilities", scanned),
        release_url(scanned),
    ):
        html = page(anonymous, address)
        assert "webkit" not in html and "GHSA-scan-0001" not in html
    assert "<svg" not in page(anonymous, url("vulnerabilities", scanned))
    assert "<svg" not in page(anonymous, reverse("portal:product", args=["acme", "edge-router"]))
    portfolio = text(page(anonymous, reverse("portal:portfolio", args=["acme"])))
    assert "0 open findings" in portfolio
    member = page(world.client("viewer"), url("vulnerabilities", scanned))
    assert "GHSA-scan-0001" in member and "<svg" in member


# --- portfolio ------------------------------------------------------------------------------


def test_portfolio_counts_each_published_release_and_totals(world: World, scanned) -> None:
    second = scanned_release(world, "3.0.1")
    html = page(world.client("anonymous"), reverse("portal:portfolio", args=["acme"]))
    words = text(html)
    assert "2 open findings in 3 published releases; 2 of them with an SBOM." in words
    assert f'href="{release_url(second)}"' in html and f'href="{release_url(scanned)}"' in html
    assert "Edge Router 2.4.1 No SBOM: not known" in words
    assert f"Edge Router {VERSION} 1 0 0 0 0 0 1 open findings" in words
    assert reverse("api:portfolio", kwargs={"org": "acme"}) in html


def test_organisation_page_links_to_the_portfolio(world: World) -> None:
    html = page(world.client("anonymous"), reverse("portal:organisation", args=["acme"]))
    assert f'href="{reverse("portal:portfolio", args=["acme"])}"' in html
    assert "Notifications" not in html


def test_unknown_organisation_portfolio_is_not_found(world: World) -> None:
    page(world.client("anonymous"), reverse("portal:portfolio", args=["nobody"]), status=404)


# --- notifications and following ------------------------------------------------------------


def test_members_see_their_organisations_notifications(world: World, scanned) -> None:
    html = page(world.client("viewer"), reverse("portal:organisation", args=["acme"]))
    assert f"1 new vulnerability finding in acme/edge-router@{VERSION}" in html
    assert f'href="{url("vulnerabilities", scanned)}"' in html
    outsider = page(world.client("outsider"), reverse("portal:organisation", args=["acme"]))
    assert "new vulnerability finding" not in outsider


def test_notifications_show_the_newest_twenty(world: World, scanned) -> None:
    for i in range(25):
        Notification.objects.create(organisation=world.vendor, release=scanned, text=f"note {i:02}")
    html = page(world.client("viewer"), reverse("portal:organisation", args=["acme"]))
    assert html.count("<li><time") == 20


def test_follow_and_unfollow_for_the_first_organisation(world: World, scanned) -> None:
    product_url = reverse("portal:product", args=["acme", "edge-router"])
    client = world.client("outsider")
    html = page(client, product_url)
    assert "0 organisations follow" in html
    assert "You follow for Network Regulator, your first organisation" in html
    response = client.post(reverse("portal:follow", args=["acme", "edge-router"]))
    assert response.status_code == 302 and response["Location"] == product_url
    assert Follow.objects.filter(organisation=world.regulator, product=world.product).exists()
    html = page(client, product_url)
    assert "1 organisation follows" in html and "Stop following" in html
    assert "Network Regulator follows Edge Router: its members see new findings" in html
    client.post(reverse("portal:follow", args=["acme", "edge-router"]), {"action": "unfollow"})
    assert not Follow.objects.exists()


def test_a_follower_hears_of_published_releases_only(world: World, scanned) -> None:
    Follow.objects.create(organisation=world.regulator, product=world.product)
    scanned_release(world, "3.2.0")
    scanned_release(world, "3.3.0-rc1", publish=False)  # services notify followers of a draft too
    html = page(world.client("outsider"), reverse("portal:organisation", args=["netreg"]))
    assert "edge-router@3.2.0" in html
    assert "3.3.0-rc1" not in html


def test_following_needs_a_signed_in_member_and_a_csrf_token(world: World, scanned) -> None:
    follow_url = reverse("portal:follow", args=["acme", "edge-router"])
    response = Client().post(follow_url)
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]
    loner = User.objects.create_user("lone", password=None)
    client = Client()
    client.force_login(loner)
    assert client.post(follow_url).status_code == 403
    assert "you are not a member of any" in page(
        client, reverse("portal:product", args=["acme", "edge-router"])
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.outsider)
    assert strict.post(follow_url).status_code == 403
    assert client.get(follow_url).status_code == 405
    hidden = reverse("portal:follow", args=["acme", "lab-box"])  # only a draft: invisible
    assert world.client("outsider").post(hidden).status_code == 404
    assert not Follow.objects.exists()


# --- accessibility and bounded queries ------------------------------------------------------


def _pages(release: Release) -> list[str]:
    return [
        url("components", release),
        url("components", release) + "?q=zzz",
        url("vulnerabilities", release),
        url("vulnerabilities", release) + "?status=all",
        url("vulnerabilities", release) + "?severity=nope",
        release_url(release),
        reverse("portal:portfolio", args=["acme"]),
        reverse("portal:product", args=["acme", "edge-router"]),
        reverse("portal:organisation", args=["acme"]),
        reverse("portal:organisation", args=["netreg"]),
        reverse("portal:help"),
    ]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "maintainer"])
def test_security_pages_have_the_accessibility_basics(world: World, scanned, who: str) -> None:
    _history(scanned)
    client = world.client(who)
    for address in _pages(scanned):
        html = page(client, address)
        assert problems(html) == [], address


@pytest.mark.parametrize("who", ["anonymous", "maintainer"])
def test_security_pages_make_a_bounded_number_of_queries(
    world: World, scanned, who: str, django_assert_max_num_queries
) -> None:
    _history(scanned)
    for i in range(5):
        scanned_release(world, f"4.{i}.0")
    sbom = ReleaseSbom.objects.get(release=scanned)
    Component.objects.bulk_create(
        Component(release=scanned, sbom=sbom, ref=f"x{i}", name=f"extra-{i:03}", version="1")
        for i in range(80)
    )
    for i in range(30):
        Notification.objects.create(organisation=world.vendor, release=scanned, text=f"note {i}")
    client = world.client(who)
    for address in _pages(scanned):
        with django_assert_max_num_queries(20):
            page(client, address)
