"""Rules for the names people give things: file names inside a release, release versions and
media types. Names are facts that end up in signed statements, so bad ones are rejected, never
rewritten."""

from __future__ import annotations

import re
import unicodedata

from clearroom.server.errors import Invalid

MAX_FILE_NAME = 255
MAX_VERSION = 100
MAX_MEDIA_TYPE = 255
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_~-]*$")

CONFUSABLE_SLASHES = frozenset(
    "\u1735\u2041\u2044\u2215\u2571\u27cb\u29f8\u2f03\u31d3\U0001d23a"  # like /
    "\u2216\u2572\u27cd\u29f5\u29f9\u2f02\u31d4\ufe68\uff3c\U0001d20f\U0001d23b"  # like \\
    "\uff0f"
)
"""Symbols Unicode's confusables list draws like a solidus or reverse solidus (letters such as
KATAKANA NO are not included: they are ordinary in names)."""

# RFC 6838 section 4.2: type "/" subtype, each a restricted-name (1-127 characters).
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
# RFC 9110 section 5.6: parameters = *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] ).
# obs-text (bytes 0x80-0xFF) is not accepted: a media type is sent back as an HTTP header.
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED_STRING = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_PARAMETER = rf"{_TCHARS}=(?:{_TCHARS}|{_QUOTED_STRING})"
_MEDIA_TYPE = re.compile(
    rf"{_RESTRICTED_NAME}/{_RESTRICTED_NAME}(?:[ \t]*;[ \t]*(?:{_PARAMETER})?)*", re.ASCII
)


def check_file_name(name: str) -> str:
    """Return ``name`` if it is a safe single path component, else raise :class:`Invalid`.

    The one rule for every way a file arrives (API path, multipart file name as sent, portal
    attachment). Checked on the name and on its NFKC compatibility form, so a fullwidth solidus
    or a two-dot leader cannot stand in for ``/`` or ``..``; characters drawn like a slash are
    refused too, and so are control and format characters (bidi overrides such as U+202E)."""
    if not name or not name.strip():
        raise Invalid("name: a file name is required")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_NAME:
        raise Invalid(f"name: at most {MAX_FILE_NAME} bytes, got {size}")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name):
        raise Invalid(
            f"name: {name!r} contains control, bidirectional or invisible formatting characters"
        )
    compatible = unicodedata.normalize("NFKC", name)
    if "/" in compatible or "\\" in compatible:
        raise Invalid(f"name: {name!r} contains a path separator; give the bare file name")
    lookalike = next((ch for ch in name if ch in CONFUSABLE_SLASHES), None)
    if lookalike is not None:
        raise Invalid(
            f"name: {name!r} contains {unicodedata.name(lookalike, 'a character')}"
            f" (U+{ord(lookalike):04X}), which looks like a path separator; give the bare file name"
        )
    if compatible in {".", ".."} or compatible.startswith(".."):
        raise Invalid(f"name: {name!r} is not allowed; it could name a parent directory")
    if name != name.strip():
        raise Invalid(f"name: {name!r} has leading or trailing white space")
    return unicodedata.normalize("NFC", name)


def is_media_type(value: str) -> bool:
    """Whether ``value`` is a media type by RFC 6838's grammar, with RFC 9110 parameters."""
    return len(value) <= MAX_MEDIA_TYPE and _MEDIA_TYPE.fullmatch(value) is not None


def check_media_type(value: str) -> str:
    """Return ``value`` if it is a media type (``type/subtype`` and optional ``; name=value``
    parameters), else raise :class:`Invalid`."""
    if not is_media_type(value):
        raise Invalid(
            f"media_type: {value[:80]!r} is not a media type; give type/subtype with optional"
            " parameters, such as 'application/octet-stream' or 'text/plain; charset=utf-8'"
            " (RFC 6838)"
        )
    return value


def served_media_type(stored: str) -> str:
    """The media type to answer a download with: the stored one, or application/octet-stream if
    it is not valid (rows from before this check), so a bad value can never break a download."""
    return stored if is_media_type(stored) else "application/octet-stream"


def check_version(version: str) -> str:
    if not version or len(version) > MAX_VERSION or not _VERSION.match(version):
        raise Invalid(
            f"version: {version!r} is not a valid version; use up to {MAX_VERSION} letters, digits"
            " and . + _ ~ - , starting with a letter or digit (for example '2.4.1')"
        )
    return version
