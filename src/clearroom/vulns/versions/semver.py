"""SemVer 2.0.0 precedence (https://semver.org, section 11), used by OSV for npm, crates.io, Go,
Hex and every ``SEMVER`` range; and Dart's ``pub_semver`` ordering for Pub.

Accepted: an optional leading ``v`` (Go spells versions with it; OSV data mixes both), numeric
parts without leading zeros, a pre-release and build metadata made of non-empty
``[0-9A-Za-z-]`` identifiers, numeric pre-release identifiers without leading zeros.
Build metadata is ignored for ordering, except for Pub: pub_semver sorts a version with build
metadata after the same version without, and compares build identifiers like pre-release ones.

Known deviations: ``1`` and ``1.2`` are accepted as ``1.0.0`` and ``1.2.0`` (Go's documented
shorthand, without pre-release or build) for every ecosystem here, where npm, Cargo, Hex and pub
would refuse them; numbers have no size limit (the tools cap them at 2^53 or 2^64). Four or more
numeric parts (``1.1.3.4.5``) are refused: no SemVer tool accepts them.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import VersionScheme

_SEMVER = re.compile(
    r"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?(?:\.(?P<patch>[0-9]+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?"
)
_IDENTIFIER = re.compile(r"[0-9A-Za-z-]+")


class SemVer(VersionScheme):
    spec: ClassVar[str] = "SemVer 2.0.0"

    def _parse(self, version: str) -> Any:
        major, minor, patch, pre, _build = self._split(version)
        return (major, minor, patch, self._pre_key(version, pre))

    def _split(self, version: str) -> tuple[int, int, int, str | None, str | None]:
        m = _SEMVER.fullmatch(version)
        if m is None:
            raise self.fail(version, "expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]")
        parts = [m["major"], m["minor"], m["patch"]]
        pre, build = m["pre"], m["build"]
        if parts[2] is None and (pre is not None or build is not None):
            raise self.fail(version, "a pre-release or build needs all three numbers")
        for part in parts:
            if part is not None and len(part) > 1 and part[0] == "0":
                raise self.fail(version, f"numeric part {part!r} has a leading zero")
        for label, text in (("pre-release", pre), ("build", build)):
            if text is not None and not all(_IDENTIFIER.fullmatch(i) for i in text.split(".")):
                raise self.fail(version, f"empty {label} identifier")
        major, minor, patch = (int(p) if p is not None else 0 for p in parts)
        return major, minor, patch, pre, build

    def _pre_key(self, version: str, pre: str | None) -> tuple[Any, ...]:
        """A release sorts after its pre-releases; identifiers compare numerically when all
        digits, else in ASCII order, and numeric ones sort first; more identifiers win ties."""
        if pre is None:
            return (1,)
        key: list[tuple[int, Any]] = []
        for ident in pre.split("."):
            if ident.isdigit():
                if len(ident) > 1 and ident[0] == "0":
                    raise self.fail(version, f"pre-release identifier {ident!r} has a leading zero")
                key.append((0, int(ident)))
            else:
                key.append((1, ident))
        return (0, tuple(key))


class Pub(SemVer):
    spec: ClassVar[str] = "pub_semver Version.compareTo"

    def _parse(self, version: str) -> Any:
        major, minor, patch, pre, build = self._split(version)
        if build is None:
            build_key: tuple[Any, ...] = (0,)
        else:
            build_key = (
                1,
                tuple((0, int(i)) if i.isdigit() else (1, i) for i in build.split(".")),
            )
        return (major, minor, patch, self._pre_key(version, pre), build_key)
