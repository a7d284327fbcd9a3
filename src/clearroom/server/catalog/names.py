"""Rules for the names people give things: file names inside a release and release versions.
Names are facts that end up in signed statements, so bad ones are rejected, never rewritten."""

from __future__ import annotations

import re
import unicodedata

from clearroom.server.errors import Invalid

MAX_FILE_NAME = 255
MAX_VERSION = 100
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_~-]*$")


def check_file_name(name: str) -> str:
    """Return ``name`` if it is a safe single path component, else raise :class:`Invalid`."""
    if not name or not name.strip():
        raise Invalid("name: a file name is required")
    if len(name.encode()) > MAX_FILE_NAME:
        raise Invalid(f"name: at most {MAX_FILE_NAME} bytes, got {len(name.encode())}")
    if "/" in name or "\\" in name:
        raise Invalid(f"name: {name!r} contains a path separator; give the bare file name")
    if name in {".", ".."} or name.startswith(".."):
        raise Invalid(f"name: {name!r} is not allowed; it could name a parent directory")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        raise Invalid(f"name: {name!r} contains control or invisible formatting characters")
    if name != name.strip():
        raise Invalid(f"name: {name!r} has leading or trailing white space")
    return unicodedata.normalize("NFC", name)


def check_version(version: str) -> str:
    if not version or len(version) > MAX_VERSION or not _VERSION.match(version):
        raise Invalid(
            f"version: {version!r} is not a valid version; use up to {MAX_VERSION} letters, digits"
            " and . + _ ~ - , starting with a letter or digit (for example '2.4.1')"
        )
    return version
