"""Catalogue jobs. SHA-512 is computed after the upload so that it never slows the upload down:
the store's address (SHA-256) is known when the upload ends; the second digest follows."""

from __future__ import annotations

import hashlib

from clearroom.jobs import job
from clearroom.server.catalog.models import Artifact, Document
from clearroom.server.services import blob_store

_MODELS = {"artifact": Artifact, "document": Document}


@job("catalog.sha512", max_attempts=3, timeout=3600)
def compute_sha512(*, model: str, pk: int) -> dict[str, str] | None:
    """Re-read the stored bytes (the store checks their SHA-256 as it reads) and record SHA-512."""
    stored = _MODELS[model].objects.filter(pk=pk).first()
    if stored is None:
        return None
    if stored.sha512:  # idempotent: a retried or duplicate job does nothing
        return {"sha512": stored.sha512}
    digest = hashlib.sha512()
    with blob_store().open_reader(stored.sha256) as reader:
        for chunk in reader:
            digest.update(chunk)
    _MODELS[model].objects.filter(pk=pk, sha512="").update(sha512=digest.hexdigest())
    return {"sha512": digest.hexdigest()}
