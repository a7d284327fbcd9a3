"""Open a store from a URL, so settings name a location and never a backend class.

- ``file:///srv/clearroom/blobs`` or a plain path such as ``/srv/clearroom/blobs`` or
  ``./data/blobs``: a local directory (created if missing).
- ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1``: an S3-compatible bucket.
  Credentials come from the standard AWS environment variables (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``) or from
  the ``access_key_id``/``secret_access_key``/``session_token`` query parameters (avoid these
  outside tests: URLs end up in logs). ``allow_http`` defaults to true for an ``http://``
  endpoint. See `S3Settings.from_url` for every parameter.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from clearroom.blobs.errors import InvalidStoreConfig
from clearroom.blobs.interfaces import BlobStore, ObjectStore
from clearroom.blobs.local import LocalBlobStore, LocalObjectStore
from clearroom.blobs.s3 import S3BlobStore, S3ObjectStore
from clearroom.blobs.s3_settings import S3Settings, redact_url


def open_blob_store(url: str | os.PathLike[str]) -> BlobStore:
    """The `BlobStore` at ``url`` (``file://``, a path, or ``s3://``)."""
    where = _locate(url)
    return LocalBlobStore(where) if isinstance(where, Path) else S3BlobStore(where)


def open_object_store(url: str | os.PathLike[str]) -> ObjectStore:
    """The `ObjectStore` at ``url`` (``file://``, a path, or ``s3://``)."""
    where = _locate(url)
    return LocalObjectStore(where) if isinstance(where, Path) else S3ObjectStore(where)


def _locate(url: str | os.PathLike[str]) -> Path | S3Settings:
    if not isinstance(url, str):
        return Path(url)
    if not url:
        raise InvalidStoreConfig("url=''", "empty")
    if "://" not in url:
        return Path(url)
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return S3Settings.from_url(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise InvalidStoreConfig(redact_url(url), "file URLs take no host, query or fragment")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise InvalidStoreConfig(redact_url(url), "file URLs need an absolute path")
        return Path(path)
    raise InvalidStoreConfig(redact_url(url), f"unsupported scheme {parts.scheme!r}")
