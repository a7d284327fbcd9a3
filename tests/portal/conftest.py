"""A small world for the portal's tests: a vendor with an owner, a maintainer and a viewer; an
outsider from a regulator; a product with a published release (public and confidential files),
a draft release, and a second product that has only a draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from clearroom.server.accounts.models import Membership, Organisation, User
from clearroom.server.authz import Actor
from clearroom.server.catalog import services
from clearroom.server.catalog.models import Artifact, Confidentiality, Document, Product, Release
from clearroom.server.services import blob_store

FIRMWARE = b"ACME edge router firmware 2.4.1\n" * 100
SECRET_SOURCE = b"confidential build recipe\n"
SBOM = b'{"bomFormat": "CycloneDX", "specVersion": "1.6"}\n'
DRAFT_FIRMWARE = b"ACME edge router firmware 2.5.0-rc1\n"


@dataclass
class World:
    vendor: Organisation
    regulator: Organisation
    owner: User
    maintainer: User
    viewer: User
    outsider: User
    product: Product
    hidden_product: Product
    published: Release
    draft: Release
    hidden_draft: Release
    firmware: Artifact
    confidential: Artifact
    sbom: Document

    def user(self, who: str) -> User | None:
        return None if who == "anonymous" else getattr(self, who)

    def client(self, who: str) -> Client:
        client = Client()
        user = self.user(who)
        if user is not None:
            client.force_login(user)
        return client


def release_url(release: Release, action: str = "") -> str:
    p = release.product
    name = f"portal:{action}" if action else "portal:release"
    return reverse(name, args=[p.vendor.slug, p.slug, release.version])


def add_artifact(
    release: Release,
    name: str,
    data: bytes,
    *,
    confidentiality: str = Confidentiality.PUBLIC,
    with_sha512: bool = False,
) -> Artifact:
    import hashlib

    blob = blob_store().put_bytes(data)
    return Artifact.objects.create(
        release=release,
        name=name,
        size=blob.size,
        sha256=blob.sha256,
        sha512=hashlib.sha512(data).hexdigest() if with_sha512 else "",
        confidentiality=confidentiality,
    )


def make_world(*, password: str | None = None) -> World:
    vendor = Organisation.objects.create(
        slug="acme", name="Acme Networks", kind="vendor", website="https://acme.example"
    )
    regulator = Organisation.objects.create(
        slug="netreg", name="Network Regulator", kind="regulator"
    )

    def user(username: str, org: Organisation, role: str) -> User:
        u = User.objects.create_user(username, password=password)
        Membership.objects.create(user=u, organisation=org, role=role)
        return u

    owner = user("olga", vendor, "owner")
    maintainer = user("mia", vendor, "maintainer")
    viewer = user("vic", vendor, "viewer")
    outsider = user("otto", regulator, "evaluator")

    actor = Actor(user=maintainer)
    product = services.create_product(
        actor,
        vendor,
        slug="edge-router",
        name="Edge Router",
        category="network",
        description="A 5G edge router.",
    )
    published = services.create_release(
        actor,
        product,
        version="2.4.1",
        support_until=date(2030, 12, 31),
        notes="Fixes CVE-2025-0001.",
    )
    firmware = add_artifact(published, "edge-router-2.4.1.bin", FIRMWARE, with_sha512=True)
    confidential = add_artifact(
        published, "build-recipe.txt", SECRET_SOURCE, confidentiality=Confidentiality.CONFIDENTIAL
    )
    sbom_blob = blob_store().put_bytes(SBOM)
    sbom = Document.objects.create(
        release=published,
        name="sbom.cdx.json",
        kind="sbom",
        size=sbom_blob.size,
        sha256=sbom_blob.sha256,
        media_type="application/vnd.cyclonedx+json",
    )
    published = services.publish_release(actor, published)

    draft = services.create_release(actor, product, version="2.5.0-rc1")
    add_artifact(draft, "edge-router-2.5.0-rc1.bin", DRAFT_FIRMWARE)

    hidden_product = services.create_product(
        actor, vendor, slug="lab-box", name="Lab Box", category="iot"
    )
    hidden_draft = services.create_release(actor, hidden_product, version="0.1")
    return World(
        vendor=vendor,
        regulator=regulator,
        owner=owner,
        maintainer=maintainer,
        viewer=viewer,
        outsider=outsider,
        product=product,
        hidden_product=hidden_product,
        published=published,
        draft=draft,
        hidden_draft=hidden_draft,
        firmware=firmware,
        confidential=confidential,
        sbom=sbom,
    )


@pytest.fixture
def world(db: None) -> World:
    return make_world()
