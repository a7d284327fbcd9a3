"""Exact version ordering per ecosystem, as the OSV schema defines it: ``ECOSYSTEM`` ranges
order versions the way the ecosystem's own tooling does, ``SEMVER`` ranges by SemVer 2.0.0.

    from clearroom.vulns.versions import SUPPORTED, UnparsableVersion, ecosystem

    pypi = ecosystem("PyPI")
    assert pypi.compare("1.0rc1", "1.0") == -1
    assert sorted(["1.10", "1.9", "1.0a1"], key=pypi.key) == ["1.0a1", "1.9", "1.10"]
    assert ecosystem("Debian:12").compare("1.2-1~deb12u1", "1.2-1") == -1
    try:
        ecosystem("npm").key("not a version")
    except UnparsableVersion as error:
        assert error.ecosystem == "npm"

``key()`` never guesses: a string the ecosystem's rules reject raises ``UnparsableVersion``
(see each module's docstring for the rules and the known deviations). Keys are cached.
"""

from __future__ import annotations

from typing import Any, Protocol

from clearroom.vulns.versions._common import (
    MAX_VERSION_LENGTH,
    UnknownEcosystem,
    UnparsableVersion,
    VersionScheme,
)
from clearroom.vulns.versions.alpine import Alpine
from clearroom.vulns.versions.debian import Debian
from clearroom.vulns.versions.maven import Maven
from clearroom.vulns.versions.nuget import NuGet
from clearroom.vulns.versions.packagist import Packagist
from clearroom.vulns.versions.pypi import PyPI
from clearroom.vulns.versions.rubygems import RubyGems
from clearroom.vulns.versions.semver import Pub, SemVer

__all__ = [
    "MAX_VERSION_LENGTH",
    "SUPPORTED",
    "Ecosystem",
    "UnknownEcosystem",
    "UnparsableVersion",
    "ecosystem",
]


class Ecosystem(Protocol):
    """One ecosystem's version order."""

    name: str

    def key(self, version: str) -> Any:
        """A totally ordered sort key; raises UnparsableVersion, never guesses."""
        ...

    def compare(self, a: str, b: str) -> int:
        """-1, 0 or 1 via key()."""
        ...


_SCHEMES: dict[str, VersionScheme] = {
    scheme.name: scheme
    for scheme in (
        PyPI("PyPI"),
        SemVer("npm"),
        SemVer("crates.io"),
        SemVer("Go"),
        SemVer("Hex"),
        Pub("Pub"),
        Maven("Maven"),
        NuGet("NuGet"),
        RubyGems("RubyGems"),
        Packagist("Packagist"),
        Debian("Debian"),
        Alpine("Alpine"),
    )
}

SUPPORTED: tuple[str, ...] = tuple(_SCHEMES)


def ecosystem(name: str) -> Ecosystem:
    """The version order of an OSV ecosystem name; a release suffix (``Debian:12``,
    ``Alpine:v3.19``) does not change the order and is ignored."""
    base = name.partition(":")[0]
    try:
        return _SCHEMES[base]
    except KeyError:
        raise UnknownEcosystem(name, SUPPORTED) from None
