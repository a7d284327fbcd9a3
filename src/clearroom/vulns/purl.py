"""Package URLs to the OSV (ecosystem, name) an advisory uses, with each ecosystem's name rules.

    >>> target = from_purl("pkg:pypi/Django_Rest@3.1")
    >>> (target.ecosystem, target.name, target.version)
    ('PyPI', 'django-rest', '3.1')
    >>> from_purl("pkg:npm/%40angular/core@1.0.0").name
    '@angular/core'

A purl that does not parse raises :class:`InvalidPurl`; a well-formed purl of a type we do not
map raises :class:`UnsupportedPurl` - the matcher reports both as "not matchable", never guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from packageurl import PackageURL

from clearroom.errors import ClearroomError

__all__ = [
    "PURL_ECOSYSTEMS",
    "InvalidPurl",
    "PurlTarget",
    "UnsupportedPurl",
    "base_ecosystem",
    "from_purl",
    "normalise_name",
]

MAX_PURL_LENGTH: Final = 4096

# purl type -> OSV ecosystem name
PURL_ECOSYSTEMS: Final[dict[str, str]] = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "cargo": "crates.io",
    "maven": "Maven",
    "nuget": "NuGet",
    "gem": "RubyGems",
    "composer": "Packagist",
    "deb": "Debian",
    "apk": "Alpine",
    "pub": "Pub",
    "hex": "Hex",
}

# Debian code names (distro-info-data) for purls that carry distro=bookworm rather than debian-12.
_DEBIAN_CODENAMES: Final = {
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
}
_PEP503: Final = re.compile(r"[-_.]+")
_CASE_INSENSITIVE: Final = frozenset({"nuget", "packagist", "hex", "pub", "npm"})


class InvalidPurl(ClearroomError):
    """The string is not a valid package URL."""


class UnsupportedPurl(ClearroomError):
    """A valid purl whose type (or distribution) has no OSV ecosystem here."""


@dataclass(frozen=True, slots=True)
class PurlTarget:
    """What to look up: the OSV ecosystem (maybe with a ``:release`` suffix), the normalised
    package name, and the version to evaluate (None if the purl has none)."""

    ecosystem: str
    name: str
    version: str | None
    purl: str


def base_ecosystem(ecosystem: str) -> str:
    """``"Debian:12"`` -> ``"Debian"``; the index key ignores the release suffix."""
    return ecosystem.split(":", 1)[0]


def normalise_name(ecosystem: str, name: str) -> str:
    """The name as the advisory index keys it: PEP 503 for PyPI, lower case where the
    ecosystem's registry is case-insensitive, unchanged elsewhere (Go, Maven, RubyGems...)."""
    base = base_ecosystem(ecosystem).lower()
    if base == "pypi":
        return _PEP503.sub("-", name).lower()
    if base in _CASE_INSENSITIVE:
        return name.lower()
    return name


def _debian_release(distro: str | None) -> str | None:
    if not distro:
        return None
    value = distro.lower().removeprefix("debian-").removeprefix("debian")
    if value in _DEBIAN_CODENAMES:
        return _DEBIAN_CODENAMES[value]
    match = re.fullmatch(r"(\d+)(?:\.\d+)*", value)
    return match.group(1) if match else None


def _alpine_release(distro: str | None) -> str | None:
    if not distro:
        return None
    match = re.fullmatch(r"(?:alpine-)?v?(\d+)\.(\d+)(?:\.\d+)*", distro.lower())
    return f"v{match.group(1)}.{match.group(2)}" if match else None


def _source_name(purl: PackageURL) -> str:
    """Debian and Alpine advisories name source packages; syft-style purls carry the source
    package in the ``upstream`` qualifier (``upstream=openssl@1.1`` also occurs)."""
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    upstream = qualifiers.get("upstream")
    if isinstance(upstream, str) and upstream.strip():
        return upstream.split("@", 1)[0].strip()
    return str(purl.name)


_GO_TOOLCHAIN: Final = frozenset({"stdlib", "toolchain"})
_GO_RELEASE: Final = re.compile(r"go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?")


def _go_release(version: str) -> str:
    """A Go release tag as the Go vulnerability database writes it for ``stdlib`` and
    ``toolchain``: ``go1.20.1`` -> ``1.20.1``, ``go1.21`` -> ``1.21.0``, ``go1.21rc2`` ->
    ``1.21.0-rc.2``. Anything else is left as given (and reported as unparsable if it is)."""
    match = _GO_RELEASE.fullmatch(version)
    if match is None:
        return version
    major, minor, patch, kind, number = match.groups()
    release = f"{major}.{minor or 0}.{patch or 0}"
    return f"{release}-{kind}.{number}" if kind else release


_SIMPLE_PURL: Final = re.compile(
    r"pkg:(?P<type>[A-Za-z]+)/(?P<path>[A-Za-z0-9._~+-]+(?:/[A-Za-z0-9._~+-]+)*)"
    r"@(?P<version>[A-Za-z0-9._~+!-]+)"
)
"""Purls with nothing to decode or normalise but case (no percent-escapes, qualifiers or
subpath): most real ones. They skip packageurl's full parse, which is most of a lookup's cost.
Pub is left out: packageurl rewrites its names (``.`` to ``_``), and advisories follow that.
``tests/vulns/test_purl_fast_path.py`` checks the shortcut against the full parse."""
_SIMPLE_TYPES: Final = frozenset(
    {"pypi", "npm", "golang", "cargo", "maven", "nuget", "gem", "composer", "hex"}
)


def from_purl(text: str) -> PurlTarget:
    """Map a purl string to its OSV lookup target."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidPurl("vulns: empty purl")
    if len(text) > MAX_PURL_LENGTH:
        raise InvalidPurl(f"vulns: purl longer than {MAX_PURL_LENGTH} characters")
    simple = _SIMPLE_PURL.fullmatch(text.strip())
    if simple is not None and simple["type"].lower() in _SIMPLE_TYPES:
        segments = simple["path"].split("/")
        return _target(
            text,
            simple["type"].lower(),
            "/".join(segments[:-1]),
            segments[-1],
            simple["version"],
            None,
        )
    try:
        purl = PackageURL.from_string(text.strip())
    except ValueError as exc:
        raise InvalidPurl(f"vulns: invalid purl {text[:200]!r}: {exc}") from None
    return _target(
        text,
        str(purl.type).lower(),
        str(purl.namespace) if purl.namespace else "",
        str(purl.name),
        str(purl.version) if purl.version else None,
        purl,
    )


def _target(
    text: str,
    ptype: str,
    namespace: str,
    name: str,
    version: str | None,
    purl: PackageURL | None,
) -> PurlTarget:
    """The lookup target of a parsed purl (``purl`` is None for a simple one, which has no
    qualifiers: Debian and Alpine purls always take the full parse)."""
    if ptype not in PURL_ECOSYSTEMS:
        raise UnsupportedPurl(f"vulns: purl type {ptype!r} has no OSV ecosystem here")
    ecosystem = PURL_ECOSYSTEMS[ptype]
    qualifiers = purl.qualifiers if purl is not None and isinstance(purl.qualifiers, dict) else {}
    if ptype == "npm":
        name = f"{namespace}/{name}" if namespace else name
    elif ptype == "golang":
        name = f"{namespace}/{name}" if namespace else name
        if version and name in _GO_TOOLCHAIN and version.startswith("go"):
            version = _go_release(version)
        elif version and version.startswith("v"):
            version = version[1:]  # OSV Go events carry no "v"
    elif ptype == "maven":
        if not namespace:
            raise InvalidPurl(f"vulns: maven purl {text[:200]!r} has no group (namespace)")
        name = f"{namespace}:{name}"
    elif ptype == "composer":
        name = f"{namespace}/{name}" if namespace else name
    elif ptype == "deb":
        assert purl is not None
        if namespace.lower() != "debian":
            raise UnsupportedPurl(f"vulns: deb purls of {namespace or 'no'} distribution")
        name = _source_name(purl)
        release = _debian_release(qualifiers.get("distro"))
        ecosystem = f"Debian:{release}" if release else "Debian"
    elif ptype == "apk":
        assert purl is not None
        if namespace.lower() != "alpine":
            raise UnsupportedPurl(f"vulns: apk purls of {namespace or 'no'} distribution")
        name = _source_name(purl)
        release = _alpine_release(qualifiers.get("distro"))
        ecosystem = f"Alpine:{release}" if release else "Alpine"
    elif namespace:
        # pypi, cargo, nuget, gem, pub, hex have no namespace in their purl definitions
        raise InvalidPurl(f"vulns: {ptype} purl {text[:200]!r} must not have a namespace")
    if not name:
        raise InvalidPurl(f"vulns: purl {text[:200]!r} has no name")
    return PurlTarget(ecosystem, normalise_name(ecosystem, name), version, text)
