"""NuGet: ``NuGetVersion`` ordering from NuGet.Versioning (SemVer 2.0.0 extended to four parts).

Up to four numeric parts (missing ones are 0, leading zeros allowed: ``1.0.01`` is ``1.0.1.0``),
an optional pre-release compared identifier by identifier case-insensitively (numeric
identifiers numerically and before alphanumeric ones; more identifiers win ties), build metadata
after ``+`` ignored. Known deviations: numbers have no size limit (NuGet caps them at 2^31-1).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import VersionScheme

_NUGET = re.compile(
    r"(?P<n1>[0-9]+)(?:\.(?P<n2>[0-9]+))?(?:\.(?P<n3>[0-9]+))?(?:\.(?P<n4>[0-9]+))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>[0-9A-Za-z.-]+))?"
)
_IDENTIFIER = re.compile(r"[0-9A-Za-z-]+")


class NuGet(VersionScheme):
    spec: ClassVar[str] = "NuGet.Versioning NuGetVersion"

    def _parse(self, version: str) -> Any:
        m = _NUGET.fullmatch(version)
        if m is None:
            raise self.fail(version, "expected N[.N[.N[.N]]][-PRERELEASE][+METADATA]")
        numbers = tuple(int(m[g]) if m[g] is not None else 0 for g in ("n1", "n2", "n3", "n4"))
        for label in ("pre", "build"):
            text = m[label]
            if text is not None and not all(_IDENTIFIER.fullmatch(i) for i in text.split(".")):
                raise self.fail(
                    version, f"empty {'pre-release' if label == 'pre' else 'metadata'} identifier"
                )
        if m["pre"] is None:
            return (numbers, (1,))
        labels = tuple(
            (0, int(i), "") if i.isdigit() else (1, 0, i.lower()) for i in m["pre"].split(".")
        )
        return (numbers, (0, labels))
