"""The public page cache: anonymous visitors get kept copies, and never one that is out of date.

These tests commit (``transactional_db``): inside a transaction nothing is cached, because its
writes have not replaced the generation yet."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from tests.portal.conftest import World, make_world, release_url
from tests.server.conftest import ALL_SCOPES

from clearroom.server.accounts.tokens import issue_token
from clearroom.server.authz import Actor
from clearroom.server.catalog import services
from clearroom.server.catalog.models import Artifact, Product, Release
from clearroom.server.pagecache import generation
from clearroom.server.pagecache.cache import PAGES, Page, PageCache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db: None, settings) -> World:  # type: ignore[no-untyped-def]
    settings.CONFIG = dataclasses.replace(settings.CONFIG, page_cache_mb=8, page_cache_seconds=60)
    PAGES.clear()
    return make_world()


def anonymous(url: str, **headers: str) -> tuple[str, str]:
    response = Client(headers=headers).get(url)
    assert response.status_code == 200, response.status_code
    return response["Cache-Status"], response.content.decode()


def test_a_second_anonymous_visit_is_served_from_the_cache(world: World) -> None:
    url = release_url(world.published)
    first_status, first = anonymous(url)
    second_status, second = anonymous(url)
    assert first_status == "clearroom; fwd=uri-miss; stored"
    assert second_status == "clearroom; hit"
    assert second == first and "edge-router-2.4.1.bin" in second


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda w: Product.objects.filter(pk=w.product.pk).update(name="Core Router"),
            id="QuerySet.update",
        ),
        pytest.param(
            lambda w: setattr(w.product, "name", "Core Router") or w.product.save(), id="Model.save"
        ),
        pytest.param(
            lambda w: connection.cursor().execute(
                "UPDATE catalog_product SET name = 'Core Router' WHERE id = %s", [w.product.pk]
            ),
            id="raw SQL",
        ),
    ],
)
def test_any_write_is_seen_by_the_next_visitor(world: World, change) -> None:  # type: ignore[no-untyped-def]
    url = release_url(world.published)
    anonymous(url)
    change(world)
    status, html = anonymous(url)
    assert status.startswith("clearroom; fwd=uri-miss")
    assert "Core Router" in html


def test_rows_added_in_bulk_show_at_once(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    Artifact.objects.bulk_create(
        [Artifact(release=world.published, name="extra.bin", size=1, sha256="ab" * 32)]
    )
    assert "extra.bin" in anonymous(url)[1]


def test_a_rolled_back_write_never_reaches_the_cache(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    with pytest.raises(RuntimeError), transaction.atomic():
        Product.objects.filter(pk=world.product.pk).update(name="Never Committed")
        # a page rendered inside the transaction is not kept: others must not see it
        assert anonymous(url)[0] == "clearroom; fwd=bypass"
        raise RuntimeError
    status, html = anonymous(url)
    assert status == "clearroom; hit" and "Never Committed" not in html


def test_signed_in_visitors_and_tokens_always_get_a_fresh_answer(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    anonymous(url)
    member = world.client("maintainer").get(url)
    assert member["Cache-Status"] == "clearroom; fwd=bypass"
    assert "Signed in as" in member.content.decode()
    assert "build-recipe.txt" in member.content.decode()  # the confidential file, for members

    api = reverse("api:releases", args=["acme", "edge-router"])
    anonymous(api)
    _, token = issue_token(world.maintainer, world.vendor, name="t", scopes=ALL_SCOPES)
    answer = Client(headers={"Authorization": f"Bearer {token}"}).get(api)
    assert answer["Cache-Status"] == "clearroom; fwd=bypass"
    assert "2.5.0-rc1" in answer.content.decode()  # the draft, for the vendor's token
    assert "2.5.0-rc1" not in anonymous(api)[1]


def test_a_session_cookie_bypasses_the_cache_even_when_it_is_not_valid(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    client = Client()
    client.cookies["sessionid"] = "forged"
    assert client.get(url)["Cache-Status"] == "clearroom; fwd=bypass"


def test_answers_vary_on_credentials(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    response = Client().get(url)
    assert {"Cookie", "Authorization"} <= {v.strip() for v in response["Vary"].split(",")}


def test_not_found_is_never_kept(world: World) -> None:
    url = release_url(world.draft)  # a draft: 404 for the public
    for _ in range(2):
        response = Client().get(url)
        assert response.status_code == 404
        assert response["Cache-Status"] == "clearroom; fwd=uri-miss"


def test_a_release_published_through_the_api_appears_in_the_cached_list(world: World) -> None:
    api = reverse("api:releases", args=["acme", "edge-router"])
    assert "2.5.0-rc1" not in anonymous(api)[1]
    assert anonymous(api)[0] == "clearroom; hit"
    services.publish_release(Actor(user=world.maintainer), world.draft)
    status, body = anonymous(api)
    assert status.startswith("clearroom; fwd=uri-miss") and "2.5.0-rc1" in body


def test_copies_expire(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG = dataclasses.replace(settings.CONFIG, page_cache_seconds=0)
    url = release_url(world.published)
    anonymous(url)
    assert anonymous(url)[0].startswith("clearroom; fwd=uri-miss")


def test_off_when_the_budget_is_zero(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONFIG = dataclasses.replace(settings.CONFIG, page_cache_mb=0)
    url = reverse("portal:product", args=["acme", "edge-router"])
    assert anonymous(url)[0] == anonymous(url)[0] == "clearroom; fwd=bypass"


def test_the_generation_changes_when_a_write_commits_not_before(world: World) -> None:
    written, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            Product.objects.filter(pk=world.product.pk).update(name="Later")
            written.set()
            finish.wait(10)
        connection.close()

    before = generation.current()
    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    assert generation.current() == before  # others still see the old page, rightly
    finish.set()
    thread.join()
    assert generation.current() != before


def test_a_new_checkpoint_replaces_the_generation(world: World) -> None:
    before = generation.current()
    generation.bump()
    assert generation.current() not in (None, before)


def test_every_table_but_the_unwatched_has_a_trigger(world: World) -> None:
    watched = generation.watched_tables()
    assert {"catalog_release", "catalog_product", "transparency_logentry"} <= set(watched)
    for label in generation.UNWATCHED:  # a renamed model must not silently become watched
        assert apps.get_model(label)._meta.db_table not in watched
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = %s",
                [generation.TRIGGER],
            )
            triggered = {row[0] for row in cursor.fetchall()}
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
            triggered = {row[0] for row in cursor.fetchall()}
    assert set(watched) <= triggered
    assert "audit_auditevent" not in triggered


def test_reading_the_audit_trail_does_not_empty_the_cache(world: World) -> None:
    from clearroom.server.audit.models import AuditEvent

    url = release_url(world.published)
    anonymous(url)
    AuditEvent.objects.create(action="material:artifact:read", outcome="allowed")
    assert anonymous(url)[0] == "clearroom; hit"


def test_the_cache_keeps_to_its_budget() -> None:
    cache = PageCache()
    page = Page(b"x" * 1000, (("Content-Type", "text/html"),), made=time.monotonic())
    budget = page.size * 20
    for i in range(40):
        cache.put((1, f"/p/{i}", ""), page, budget)
    kept = [i for i in range(40) if cache.get((1, f"/p/{i}", ""), max_age=60)]
    assert kept == list(range(20, 40))  # the least recently used went first
    cache.put((1, "/huge", ""), Page(b"x" * budget, (), made=time.monotonic()), budget)
    assert cache.get((1, "/huge", ""), max_age=60) is None  # never one page for everything


def test_a_release_taken_back_to_draft_is_hidden_at_once(world: World) -> None:
    url = release_url(world.published)
    anonymous(url)
    Release.objects.filter(pk=world.published.pk).update(state=Release.State.DRAFT)
    assert Client().get(url).status_code == 404


def test_signed_in_pages_are_private_while_anonymous_ones_stay_cached(world: World) -> None:
    """``Cache-Control: private, no-store`` on what a member sees never stops the public page
    cache from serving visitors, and a member is never served a kept copy."""
    url = release_url(world.published)
    member = world.client("maintainer")  # signing in writes, so before the visitors come
    anonymous(url)
    seen = member.get(url)
    assert seen["Cache-Control"] == "private, no-store"
    assert seen["Cache-Status"] == "clearroom; fwd=bypass"
    status, _ = anonymous(url)
    assert status == "clearroom; hit"
