"""Model → API shape. One place, so the API and the portal's JSON views agree."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from clearroom.server.authz import Actor, visible_files
from clearroom.server.catalog.models import Artifact, Document, Product, Release, StoredFile


def release_path(release: Release) -> str:
    p = release.product
    return reverse(
        "api:release", kwargs={"org": p.vendor.slug, "product": p.slug, "version": release.version}
    )


def product_out(product: Product) -> dict[str, Any]:
    return {
        "vendor": product.vendor.slug,
        "slug": product.slug,
        "name": product.name,
        "category": product.category,
        "description": product.description,
        "releases_url": reverse(
            "api:releases", kwargs={"org": product.vendor.slug, "product": product.slug}
        ),
    }


def file_out(stored: StoredFile) -> dict[str, Any]:
    collection = "artifacts" if isinstance(stored, Artifact) else "documents"
    url = f"{release_path(stored.release)}/{collection}/{stored.name}"
    return {
        "name": stored.name,
        "kind": getattr(stored, "kind", "artifact"),
        "media_type": stored.media_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "sha512": stored.sha512 or None,
        "confidentiality": stored.confidentiality,
        "created_at": stored.created_at,
        "url": url,
        "download_url": url + "/content",
        "release_state": stored.release.state,
        "release_url": release_path(stored.release),
    }


def release_out(release: Release, actor: Actor) -> dict[str, Any]:
    files = {
        model: visible_files(actor, model.objects.filter(release=release)).select_related(
            "release__product__vendor"
        )
        for model in (Artifact, Document)
    }
    return {
        "vendor": release.product.vendor.slug,
        "product": release.product.slug,
        "version": release.version,
        "state": release.state,
        "support_until": release.support_until,
        "notes": release.notes,
        "created_at": release.created_at,
        "published_at": release.published_at,
        "withdrawn_at": release.withdrawn_at,
        "withdrawn_reason": release.withdrawn_reason,
        "url": release_path(release),
        "artifacts": [file_out(f) for f in files[Artifact]],
        "documents": [file_out(f) for f in files[Document]],
    }
