"""A small world for service tests: a vendor with a maintainer and a viewer, an outsider, a lab
holding a grant, a product with a draft release, and API tokens."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client

from clearroom.server.accounts.models import Membership, Organisation, User
from clearroom.server.accounts.tokens import issue_token
from clearroom.server.authz import Actor, Permission
from clearroom.server.catalog import services
from clearroom.server.catalog.models import AccessGrant, Product
from clearroom.server.services import blob_store

ALL_SCOPES = [p.value for p in Permission]


@pytest.fixture(autouse=True)
def own_blob_store(settings, tmp_path):
    """Each test gets an empty artifact store, so "nothing was stored" can be asserted."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, blob_store_url=str(tmp_path / "blobs"))
    blob_store.cache_clear()
    yield
    blob_store.cache_clear()


@dataclass
class World:
    vendor: Organisation
    lab: Organisation
    outsider_org: Organisation
    maintainer: User
    viewer: User
    evaluator: User
    outsider: User
    product: Product
    token: str  # maintainer's, all scopes

    def client(self, token: str | None = None) -> Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return Client(headers=headers)

    def token_for(self, user: User, org: Organisation, scopes=None, **kwargs) -> str:
        return issue_token(user, org, name="test", scopes=scopes or ALL_SCOPES, **kwargs)[1]


def _member(username: str, org: Organisation, role: str) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username + "-long")
    Membership.objects.create(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def world(db) -> World:
    vendor = Organisation.objects.create(slug="acme", name="Acme", kind="vendor")
    lab = Organisation.objects.create(slug="lab", name="Lab", kind="lab")
    other = Organisation.objects.create(slug="other", name="Other Vendor", kind="vendor")
    maintainer = _member("maintainer", vendor, "maintainer")
    viewer = _member("viewer", vendor, "viewer")
    evaluator = _member("evaluator", lab, "evaluator")
    outsider = _member("outsider", other, "owner")
    product = services.create_product(
        Actor(maintainer), vendor, slug="router", name="Router", category="network"
    )
    services.create_release(Actor(maintainer), product, version="1.0.0")
    AccessGrant.objects.create(product=product, grantee=lab, granted_by=maintainer)
    token = issue_token(
        maintainer, vendor, name="ci", scopes=ALL_SCOPES, lifetime=timedelta(days=1)
    )[1]
    return World(vendor, lab, other, maintainer, viewer, evaluator, outsider, product, token)


RELEASE = "/api/products/acme/router/releases/1.0.0"


def digest_header(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


def put(
    client: Client,
    name: str,
    data: bytes,
    *,
    digest: str | None = "auto",
    query: str = "",
    collection="artifacts",
):
    headers = {}
    if digest == "auto":
        headers["Content-Digest"] = digest_header(data)
    elif digest is not None:
        headers["Content-Digest"] = digest
    return client.put(
        f"{RELEASE}/{collection}/{name}{query}",
        data=data,
        content_type="application/octet-stream",
        headers=headers,
    )
