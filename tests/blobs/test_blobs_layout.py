"""Digest and key validation and the ``ab/cd/<sha256>`` layout."""

from __future__ import annotations

import pytest

from clearroom.blobs import InvalidDigest, InvalidKey, blob_key, check_digest, check_key
from clearroom.blobs.layout import check_prefix

DIGEST = "ab" + "cd" + "0" * 60


def test_blob_key_layout() -> None:
    assert blob_key(DIGEST) == f"ab/cd/{DIGEST}"
    assert check_digest(DIGEST) == DIGEST


@pytest.mark.parametrize("digest", [None, 42, DIGEST.upper(), DIGEST[:-1], DIGEST + "0"])
def test_bad_digests(digest: object) -> None:
    with pytest.raises(InvalidDigest, match=r"^blobs: "):
        check_digest(digest)


@pytest.mark.parametrize(
    "key",
    [
        "checkpoint",
        "tile/0/000",
        "tile/0/x001/234",
        "tile/0/x001/234.p/5",
        "tile/entries/x123/067.p/8",
        "a/.hidden/b",
        "..x/y..",
        "ünïcode/ok",
    ],
)
def test_good_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", [None, b"bytes", "x/\x85", "a/" + "b" * 256, "k/" * 600])
def test_bad_keys(key: object) -> None:
    with pytest.raises(InvalidKey, match=r"^blobs: invalid object key"):
        check_key(key)


def test_prefixes() -> None:
    assert check_prefix("") == ""
    assert check_prefix("tile/0/") == "tile/0"
    with pytest.raises(InvalidKey):
        check_prefix("/")
    with pytest.raises(InvalidKey):
        check_prefix("tile//")
