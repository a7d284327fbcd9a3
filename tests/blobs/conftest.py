"""Fixtures for the blob/object store conformance suite: local roots and a moto S3 server."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from clearroom.blobs import (
    BlobStore,
    LocalBlobStore,
    LocalObjectStore,
    ObjectStore,
    S3BlobStore,
    S3ObjectStore,
    S3Settings,
    blob_key,
)

BUCKET = "clearroom-test"
PART_SIZE = 5 << 20


@dataclass
class S3Endpoint:
    """The moto server; ``client`` (boto3) is the other tool that inspects and damages it."""

    url: str
    client: Any
    bucket: str = BUCKET

    def settings(self, prefix: str) -> S3Settings:
        return S3Settings(
            bucket=BUCKET,
            prefix=prefix,
            endpoint=self.url,
            region="us-east-1",
            access_key_id="testing",
            secret_access_key="testing",
            allow_http=True,
            part_size=PART_SIZE,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every key and unfinished multipart upload (as ``multipart:<key>``) under prefix."""
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix
        ):
            found += [item["Key"] for item in page.get("Contents", [])]
        uploads = self.client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
        found += [f"multipart:{item['Key']}" for item in uploads.get("Uploads", [])]
        return sorted(found)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        client.create_bucket(Bucket=BUCKET)
        yield S3Endpoint(url, client)
    finally:
        client.close()
        server.stop()


@dataclass
class Backend:
    """One implementation under test, with a back door to inspect and damage what it stored."""

    name: str
    blobs: BlobStore
    objects: ObjectStore
    stored_blobs: Callable[[], list[str]]
    """Everything in the blob area (staging files and pending uploads included)."""
    stored_objects: Callable[[], list[str]]
    everything: Callable[[], list[str]]
    """Everything the backend can reach, inside or outside the stores' roots."""
    corrupt: Callable[[str], None]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def _local(tmp_path: Path) -> Backend:
    blob_root, object_root = tmp_path / "area" / "blobs", tmp_path / "area" / "objects"

    def corrupt(sha256: str) -> None:
        path = blob_root / blob_key(sha256)
        path.chmod(0o644)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    return Backend(
        "local",
        LocalBlobStore(blob_root),
        LocalObjectStore(object_root),
        lambda: _files(blob_root),
        lambda: _files(object_root),
        lambda: _files(tmp_path),
        corrupt,
    )


def _s3(endpoint: S3Endpoint) -> Backend:
    base = f"t-{uuid.uuid4().hex[:12]}"

    def stored(area: str) -> Callable[[], list[str]]:
        return lambda: [
            k.replace(f"{base}/{area}/", "", 1) for k in endpoint.keys(f"{base}/{area}/")
        ]

    def corrupt(sha256: str) -> None:
        key = f"{base}/blobs/{blob_key(sha256)}"
        data = bytearray(endpoint.client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        data[len(data) // 2] ^= 0x01
        endpoint.client.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))

    return Backend(
        "s3",
        S3BlobStore(endpoint.settings(f"{base}/blobs")),
        S3ObjectStore(endpoint.settings(f"{base}/objects")),
        stored("blobs"),
        stored("objects"),
        endpoint.keys,
        corrupt,
    )


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.slow)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local(tmp_path)
    return _s3(request.getfixturevalue("s3_endpoint"))
