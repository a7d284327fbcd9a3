"""Model → API shape. One place, so the API and the portal's JSON views agree."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.db.models import prefetch_related_objects
from django.urls import reverse

from clearroom.server.authz import Actor
from clearroom.server.catalog.models import Artifact, Product, Release, StoredFile
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog.receipt import Receipt


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


def log_ref(row: LogEntry) -> dict[str, Any]:
    return {
        "fact": row.fact,
        "index": row.index,
        "leaf_hash": row.leaf_hash,
        "url": reverse("api:log-entry", kwargs={"leaf_hash": row.leaf_hash}),
    }


def log_entry_out(row: LogEntry, receipt: Receipt | None) -> dict[str, Any]:
    entry = bytes(row.entry)
    return {
        **log_ref(row),
        "entry_sha256": row.entry_sha256,
        "entry": json.loads(entry),
        "entry_base64": base64.b64encode(entry).decode(),
        "created_at": row.created_at,
        "receipt": receipt.to_text() if receipt else None,
        "release_url": release_path(row.release) if row.release else None,
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
        "log": next((log_ref(r) for r in stored.log_entries.all()), None),  # type: ignore[attr-defined]
    }


RELEASE_PREFETCH = ("artifacts__log_entries", "documents__log_entries", "log_entries")
"""What :func:`release_out` reads of a release: prefetch it for a list of releases."""


def release_out(release: Release, actor: Actor) -> dict[str, Any]:
    """The release as the API shows it to ``actor``: confidential files only where the actor
    may read them (the release itself is already known to be visible)."""
    prefetch_related_objects([release], *RELEASE_PREFETCH)
    readable = actor.may_read_confidential(release.product, release)

    def shown(files: Any) -> list[dict[str, Any]]:
        listed = sorted(files.all(), key=lambda f: f.name)
        return [file_out(f) for f in listed if readable or not f.is_confidential]

    facts = [
        r for r in release.log_entries.all() if r.artifact_id is None and r.document_id is None
    ]
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
        "artifacts": shown(release.artifacts),  # type: ignore[attr-defined]
        "documents": shown(release.documents),  # type: ignore[attr-defined]
        "log": [log_ref(r) for r in sorted(facts, key=lambda r: r.pk)],
    }
