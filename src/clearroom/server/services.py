"""The service's handles on the core libraries, built once from the configuration: callers ask
here for the artifact store and never name a backend."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from clearroom.blobs import BlobStore, open_blob_store


@cache
def blob_store() -> BlobStore:
    return open_blob_store(settings.CONFIG.effective_blob_store_url)
