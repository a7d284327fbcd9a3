"""Opening stores from URLs, and the S3 settings behind ``s3://`` URLs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from clearroom.blobs import (
    InvalidStoreConfig,
    LocalBlobStore,
    LocalObjectStore,
    S3BlobStore,
    S3ObjectStore,
    S3Settings,
    open_blob_store,
    open_object_store,
)

if TYPE_CHECKING:
    from conftest import S3Endpoint


def test_local_urls(tmp_path: Path) -> None:
    by_url = open_blob_store(f"file://{tmp_path}/blobs")
    assert isinstance(by_url, LocalBlobStore) and by_url.root == tmp_path / "blobs"
    by_path = open_blob_store(str(tmp_path / "blobs"))
    info = by_path.put_bytes(b"same place")
    assert by_url.read_bytes(info.sha256) == b"same place"
    objects = open_object_store(tmp_path / "objects")
    assert isinstance(objects, LocalObjectStore) and objects.root == tmp_path / "objects"
    assert isinstance(open_object_store(f"file://localhost{tmp_path}/o"), LocalObjectStore)


@pytest.mark.parametrize(
    "url",
    ["", "ftp://host/x", "file://elsewhere/x", "file:///x?y=1", "s3://", "s3://Bad_Bucket/x"],
)
def test_unusable_urls(url: str) -> None:
    with pytest.raises(InvalidStoreConfig, match=r"^blobs: cannot use store"):
        open_blob_store(url)


def test_s3_url_parsing() -> None:
    settings = S3Settings.from_url(
        "s3://my-bucket/clearroom/blobs/?endpoint=http://127.0.0.1:9000&region=eu-west-1"
        "&access_key_id=AK&secret_access_key=SECRET&part_size=8388608&conditional_copy=false"
    )
    assert settings == S3Settings(
        bucket="my-bucket",
        prefix="clearroom/blobs",
        endpoint="http://127.0.0.1:9000",
        region="eu-west-1",
        access_key_id="AK",
        secret_access_key="SECRET",
        allow_http=True,
        conditional_copy=False,
        part_size=8 << 20,
    )
    assert "SECRET" not in repr(settings)
    assert S3Settings.from_url("s3://my-bucket").allow_http is False
    assert S3Settings.from_url("s3://my-bucket?endpoint=https://s3.example").allow_http is False


@pytest.mark.parametrize(
    "query",
    [
        "?colour=blue",
        "?region=a&region=b",
        "?allow_http=maybe",
        "?part_size=1",
        "?part_size=lots",
        "?access_key_id=only-half",
        "?endpoint=ftp://x",
    ],
)
def test_bad_s3_parameters(query: str) -> None:
    with pytest.raises(InvalidStoreConfig):
        S3Settings.from_url(f"s3://my-bucket/p{query}")


def test_prefix_may_not_escape() -> None:
    with pytest.raises(InvalidStoreConfig):
        S3Settings(bucket="my-bucket", prefix="a/../../b")


@pytest.mark.parametrize(
    "url",
    [
        "s3://user:pw-TOPSECRET@my-bucket/p?secret_access_key=TOPSECRET",
        "s3://my-bucket:99/p?secret_access_key=TOPSECRET",
        "ftp://user:TOPSECRET@host/p",
        "file://user:TOPSECRET@host/p",
    ],
)
def test_secrets_stay_out_of_error_messages(url: str) -> None:
    with pytest.raises(InvalidStoreConfig) as caught:
        open_blob_store(url)
    assert "TOPSECRET" not in str(caught.value)


@pytest.mark.slow
def test_s3_url_round_trip(s3_endpoint: S3Endpoint) -> None:
    query = (
        f"?endpoint={s3_endpoint.url}&region=us-east-1"
        "&access_key_id=testing&secret_access_key=testing"
    )
    blobs = open_blob_store(f"s3://{s3_endpoint.bucket}/factory/blobs{query}")
    assert isinstance(blobs, S3BlobStore)
    info = blobs.put_bytes(b"over the wire")
    assert blobs.read_bytes(info.sha256) == b"over the wire"
    objects = open_object_store(f"s3://{s3_endpoint.bucket}/factory/objects{query}")
    assert isinstance(objects, S3ObjectStore)
    objects.put("checkpoint", b"tree size 1")
    assert objects.get("checkpoint") == b"tree size 1"


def test_package_example_runs() -> None:
    import textwrap

    import clearroom.blobs

    example = textwrap.dedent(clearroom.blobs.__doc__.split("::", 1)[1])
    exec(compile(example, "clearroom/blobs/__init__.py", "exec"), {})
