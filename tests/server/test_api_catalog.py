"""Organisations, products and releases through the API; authentication and problem details."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from tests.server.conftest import RELEASE, put

from clearroom.server.accounts.models import ApiToken, User
from clearroom.server.catalog.models import Release

PROBLEM = "application/problem+json"


def test_openapi_document_describes_the_api(client, db):
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/products/{org}/{product}/releases/{version}/artifacts/{name}" in spec["paths"]
    put_op = spec["paths"]["/api/products/{org}/{product}/releases/{version}/artifacts/{name}"][
        "put"
    ]
    assert "application/octet-stream" in put_op["requestBody"]["content"]


def test_release_lifecycle_draft_published_withdrawn(world):
    client = world.client(world.token)
    anonymous = world.client()
    assert anonymous.get(RELEASE).status_code == 404  # drafts are invisible
    assert client.get(RELEASE).json()["state"] == "draft"
    assert client.post(f"{RELEASE}/publish").status_code == 409  # no artifact yet
    put(client, "fw.img", b"image")
    published = client.post(f"{RELEASE}/publish").json()
    assert published["state"] == "published" and published["published_at"]
    assert anonymous.get(RELEASE).json()["artifacts"][0]["name"] == "fw.img"
    assert client.post(f"{RELEASE}/publish").status_code == 409
    assert (
        client.post(
            f"{RELEASE}/withdraw", {"reason": " "}, content_type="application/json"
        ).status_code
        == 422
    )
    withdrawn = client.post(
        f"{RELEASE}/withdraw", {"reason": "bad signature"}, content_type="application/json"
    )
    assert withdrawn.json()["state"] == "withdrawn"
    public = anonymous.get(RELEASE).json()
    assert public["state"] == "withdrawn" and public["withdrawn_reason"] == "bad signature"


def test_create_product_and_release(world):
    client = world.client(world.token)
    created = client.post(
        "/api/organisations/acme/products",
        {"slug": "camera", "name": "Camera", "category": "iot"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    release = client.post(
        "/api/products/acme/camera/releases",
        {"version": "0.9.1", "support_until": "2030-01-01"},
        content_type="application/json",
    )
    assert release.status_code == 201
    assert release.json()["support_until"] == "2030-01-01"
    again = client.post(
        "/api/products/acme/camera/releases", {"version": "0.9.1"}, content_type="application/json"
    )
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM


@pytest.mark.parametrize("version", ["../1", "1 0", "", "-1", "a" * 101])
def test_bad_versions_are_refused(world, version):
    response = world.client(world.token).post(
        "/api/products/acme/router/releases", {"version": version}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM


def test_malformed_json_is_a_400_problem(world):
    response = world.client(world.token).post(
        "/api/products/acme/router/releases", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "JSON" in response.json()["detail"]


def test_three_mib_release_body_is_413_problem(world):
    body = json.dumps({"version": "3.0.0", "notes": "x" * (3 << 20)})
    response = world.client(world.token).post(
        "/api/products/acme/router/releases", body, content_type="application/json"
    )
    assert response.status_code == 413 and response["Content-Type"] == PROBLEM
    assert "limit" in response.json()["detail"]
    assert not Release.objects.filter(version="3.0.0").exists()


@pytest.mark.parametrize(
    "body",
    [
        '{"version": "3.0.1", "notes": "before \\ud800 after"}',
        '{"version": "3.0.1", "notes": "ok", "\\udfff": 1}',
        '{"version": "3.0.1", "notes": ["nested", {"deeper": "\\udc00"}]}',
    ],
)
def test_lone_surrogate_in_notes_is_422(world, body):
    response = world.client(world.token).post(
        "/api/products/acme/router/releases", body, content_type="application/json"
    )
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert "surrogate" in response.json()["detail"]
    assert not Release.objects.filter(version="3.0.1").exists()


def test_a_paired_surrogate_escape_is_ordinary_text(world):
    body = '{"version": "3.0.2", "notes": "fixed \\ud83d\\udd12"}'
    response = world.client(world.token).post(
        "/api/products/acme/router/releases", body, content_type="application/json"
    )
    assert response.status_code == 201
    assert Release.objects.get(version="3.0.2").notes == "fixed \U0001f512"


def test_missing_fields_are_a_422_problem_naming_the_field(world):
    response = world.client(world.token).post(
        "/api/organisations/acme/products", {"name": "No slug"}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Invalid input"
    assert any("slug" in e["location"] for e in body["errors"])
    assert body["request_id"] == response["X-Request-ID"]


def test_unknown_things_are_404_problems(world):
    client = world.client()
    for path in [
        "/api/organisations/nope",
        "/api/products/acme/nope",
        f"{RELEASE}x",
        "/api/nothing-here",
    ]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM


class TestTokens:
    def test_expired_and_revoked_tokens_are_refused(self, world):
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = world.client(world.token).get(RELEASE)
        assert response.status_code == 401 and "expired" in response.json()["detail"]
        ApiToken.objects.update(
            expires_at=timezone.now() + timedelta(days=1), revoked_at=timezone.now()
        )
        assert "revoked" in world.client(world.token).get(RELEASE).json()["detail"]

    def test_a_wrong_secret_is_refused(self, world):
        forged = world.token[:-4] + "AAAA"
        assert world.client(forged).get(RELEASE).status_code == 401
        assert world.client("not-a-token").get(RELEASE).status_code == 401

    def test_a_bad_authorization_header_is_not_treated_as_anonymous(self, world):
        response = world.client().get(RELEASE, headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_scopes_narrow_what_a_token_may_do(self, world):
        read_only = world.token_for(
            world.maintainer, world.vendor, scopes=["material:confidential:read"]
        )
        response = put(world.client(read_only), "fw.img", b"x")
        assert response.status_code == 403
        assert "vendor:release:write" in response.json()["detail"]

    def test_a_token_scoped_to_another_product_cannot_write(self, world):
        from clearroom.server.authz import Actor
        from clearroom.server.catalog import services

        other = services.create_product(
            Actor(world.maintainer), world.vendor, slug="other", name="O", category="iot"
        )
        token = world.token_for(world.maintainer, world.vendor, product=other)
        assert put(world.client(token), "fw.img", b"x").status_code == 403

    def test_a_viewer_cannot_publish(self, world):
        token = world.token_for(world.viewer, world.vendor, scopes=["material:confidential:read"])
        assert world.client(token).post(f"{RELEASE}/publish").status_code == 403

    def test_outsiders_do_not_learn_a_draft_exists(self, world):
        token = world.token_for(world.outsider, world.outsider_org)
        assert world.client(token).post(f"{RELEASE}/publish").status_code == 404

    def test_only_the_hash_of_the_secret_is_stored(self, world):
        row = ApiToken.objects.first()
        secret = world.token.split("_", 2)[2]
        assert secret not in row.secret_sha256 and len(row.secret_sha256) == 64

    def test_last_use_is_recorded(self, world):
        world.client(world.token).get(RELEASE)
        assert ApiToken.objects.get().last_used_at is not None


def test_browser_sessions_may_read_but_not_write(world, client):
    client.force_login(world.maintainer)
    assert client.get(RELEASE).status_code == 200
    response = client.post(f"{RELEASE}/publish")
    assert response.status_code == 401
    assert "API token" in response.json()["detail"]


def test_only_operators_create_organisations(world):
    body = {"slug": "newco", "name": "NewCo", "kind": "vendor"}
    response = world.client(world.token).post(
        "/api/organisations", body, content_type="application/json"
    )
    assert response.status_code == 403
    operator = User.objects.create_superuser("op", password="op-password-long")
    from clearroom.server.accounts.models import Membership, Organisation

    centre = Organisation.objects.create(slug="centre", name="Centre", kind="operator")
    Membership.objects.create(user=operator, organisation=centre, role="owner")
    token = world.token_for(operator, centre, scopes=["centre:organisation:create"])
    response = world.client(token).post("/api/organisations", body, content_type="application/json")
    assert response.status_code == 201
    assert world.client().get("/api/organisations/newco").json()["kind"] == "vendor"


def test_health_metrics_and_request_ids(client, db):
    health = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert health.status_code == 200
    assert health.json()["checks"] == {"database": "ok", "blob_store": "ok"}
    assert health["X-Request-ID"] == "abc-123"
    assert (
        client.get("/healthz", headers={"X-Request-ID": "bad id\n"})["X-Request-ID"] != "bad id\n"
    )
    metrics = client.get("/metrics").content.decode()
    assert "clearroom_http_requests_total" in metrics


def test_release_queries_are_bounded(world, django_assert_max_num_queries):
    client = world.client(world.token)
    for i in range(5):
        put(client, f"fw{i}.img", f"image {i}".encode())
    with django_assert_max_num_queries(20):
        assert len(client.get(RELEASE).json()["artifacts"]) == 5
    assert Release.objects.count() == 1


def test_api_docs_page_loads_nothing_from_other_hosts(client, db):
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page


def test_no_json_route_answers_an_oversized_or_non_text_body_with_a_500(world):
    """Every route the OpenAPI document says takes JSON, with plausible path values: a 3 MiB
    body and a lone surrogate are problems (4xx), never a crash."""
    client = world.client(world.token)
    spec = client.get("/api/openapi.json").json()
    values = {"org": "acme", "product": "router", "version": "1.0.0"}
    routes = [
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(routes) > 10
    bodies = [json.dumps({"x": "y" * (3 << 20)}), '{"notes": "\\ud800", "body": "\\udfff"}']
    for method, path in routes:
        url = path.format_map(
            {name: values.get(name, "x") for name in re.findall(r"{(\w+)}", path)}
        )
        for body in bodies:
            response = getattr(client, method)(url, body, content_type="application/json")
            assert 400 <= response.status_code < 500, (method, path, response.content[:300])
            assert response["Content-Type"] == PROBLEM, (method, path)
