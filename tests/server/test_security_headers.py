"""Defence in depth on every answer, walked over the route inventory of the authorization
matrix: a Content-Security-Policy that allows no inline code (and pages that need none), and
``Cache-Control: private, no-store`` on whatever is answered to someone signed in."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from tests.server.test_authorization_matrix import _cells, _send, world  # noqa: F401

INLINE = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]
"""What a policy without 'unsafe-inline' would block, so what no page may contain."""

EXTRA = ["/api/docs", "/admin/login/", "/no/such/page/", "/api/no/such/route"]


def _gets(user: str):
    for route, api, method, url, obj in _cells():
        if method == "GET" or not route.methods:
            yield route, api, url, obj
    for url in EXTRA:
        yield None, url.startswith("/api/"), url, None


def _directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


@pytest.mark.parametrize("user", ["anonymous", "acme_owner"])
def test_every_page_sends_csp_without_unsafe_inline(world, user):  # noqa: F811
    users, _ = world
    client = Client()
    if user != "anonymous":
        client.force_login(users[user])
    wrong = []
    pages = 0
    for _route, _api, url, _obj in _gets(user):
        response = _send(client, "GET", url, None)
        if url == "/logout/" and user != "anonymous":
            client.force_login(users[user])
        policy = _directives(response.get("Content-Security-Policy", "x"))
        for directive in ("script-src", "style-src", "object-src", "base-uri"):
            values = policy.get(directive, ["(missing)"])
            if not values or set(values) - {"'self'", "'none'"}:
                wrong.append(f"{url}: {directive} {' '.join(values)}")
        if policy.get("frame-ancestors") != ["'none'"]:
            wrong.append(f"{url}: frame-ancestors {policy.get('frame-ancestors')}")
        if response.get("Content-Type", "").startswith("text/html"):
            pages += 1
            html = response.content.decode()
            wrong += [f"{url}: {what}" for pattern, what in INLINE if pattern.search(html)]
    assert pages > 20
    assert wrong == [], "\n".join(wrong)


def _public_by_design(url: str, obj) -> bool:
    """Answers that are the same for everyone and say so: the public log, the well-known files
    (security.txt, the CSAF provider's), and published public files' bytes."""
    if url.startswith(("/log/", "/.well-known/")):
        return True
    return url.endswith("/content") and obj.published and not obj.confidential


@pytest.mark.parametrize("how", ["session", "token"])
def test_signed_in_answers_are_private_no_store(world, how):  # noqa: F811
    users, tokens = world
    client = Client()
    token = tokens["acme_owner"] if how == "token" else None
    if how == "session":
        client.force_login(users["acme_owner"])
    wrong = []
    for _route, api, url, obj in _gets("acme_owner"):
        if how == "token" and not api:
            continue
        response = _send(client, "GET", url, token)
        if url == "/logout/" and how == "session":
            client.force_login(users["acme_owner"])
        control = response.get("Cache-Control", "")
        if "public" in control and obj is not None and _public_by_design(url, obj):
            continue
        if "no-store" not in control or "public" in control:
            wrong.append(f"{url}: {response.status_code} Cache-Control {control!r}")
    assert wrong == [], "\n".join(wrong)


def test_anonymous_public_answers_keep_their_caching(world):  # noqa: F811
    """Nothing private is added for a visitor who is not signed in: the page cache and shared
    caches keep serving the public pages."""
    anonymous = Client()
    home = anonymous.get("/")
    assert "private" not in home.get("Cache-Control", "")
    assert home["Content-Security-Policy"]
    public_file = anonymous.get("/api/products/acme/router/releases/1.0/artifacts/fw.bin/content")
    assert public_file["Cache-Control"] == "public, max-age=3600"


def test_a_draft_releases_public_file_is_never_publicly_cached(world):  # noqa: F811
    _, tokens = world
    client = Client(headers={"Authorization": f"Bearer {tokens['acme_owner']}"})
    draft = client.get("/api/products/acme/router/releases/2.0/artifacts/draft.bin/content")
    assert draft.status_code == 200
    assert draft["Cache-Control"] == "private, no-store"
