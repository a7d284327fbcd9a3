"""Every name the stores use, in one place: digest and key checks, the ``ab/cd/<sha256>`` layout."""

from __future__ import annotations

import re

from clearroom.blobs.errors import InvalidDigest, InvalidKey

STAGING_DIR = ".incoming"
"""Top-level name reserved for uploads in progress; never a valid key."""

DEFAULT_CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk when streaming a blob or object out of a store."""

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255

_DIGEST = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_digest(sha256: object) -> str:
    """Return ``sha256`` if it is 64 lowercase hex characters, else raise `InvalidDigest`."""
    if not isinstance(sha256, str) or _DIGEST.fullmatch(sha256) is None:
        raise InvalidDigest(sha256)
    return sha256


def blob_key(sha256: str) -> str:
    """Relative location of a blob: ``ab/cd/<sha256>`` for a digest starting ``abcd``."""
    check_digest(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def check_key(key: object) -> str:
    """Return ``key`` if it is a safe relative '/'-separated name, else raise `InvalidKey`."""
    if not isinstance(key, str):
        raise InvalidKey(key, "not a string")
    if not key:
        raise InvalidKey(key, "empty")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if _CONTROL.search(key):
        raise InvalidKey(key, "contains a control character")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"longer than {MAX_KEY_BYTES} bytes")
    segments = key.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidKey(key, f"has an empty, '.' or '..' segment {segment!r}")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(key, f"has a segment longer than {MAX_SEGMENT_BYTES} bytes")
    if segments[0] == STAGING_DIR:
        raise InvalidKey(key, f"{STAGING_DIR!r} is reserved for uploads in progress")
    return key


def check_prefix(prefix: object) -> str:
    """Normalise a listing prefix: ``""`` lists everything, ``"tile/0"`` and ``"tile/0/"`` agree."""
    if prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.endswith("/"):
        prefix = prefix[:-1]
    return check_key(prefix)
