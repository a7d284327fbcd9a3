"""PyPI: PEP 440 (the "Version specifiers" specification) through ``packaging.version.Version``.

Strings PEP 440 rejects fall back to ``packaging_legacy.version.LegacyVersion`` (the ordering
``packaging`` < 22 and pip < 24 used), and sort before every PEP 440 version, as pip's old rule
did. Legacy strings must use letters, digits and ``. _ + - :`` (PyPI advisories name such
versions, including timestamps like ``2013-01-21T20:33:09+0100``); anything else (``!!x!!``,
``1.0/2``) is refused rather than ordered by a fallback that would accept any text.
Known deviations: none against the fixtures; modern pip refuses every legacy version outright.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from packaging.version import InvalidVersion, Version
from packaging_legacy.version import LegacyVersion

from clearroom.vulns.versions._common import VersionScheme

_LEGACY = re.compile(r"[A-Za-z0-9._+:-]+")


class PyPI(VersionScheme):
    spec: ClassVar[str] = "PEP 440, legacy fallback"

    def _parse(self, version: str) -> Any:
        try:
            return (1, Version(version))
        except InvalidVersion:
            if _LEGACY.fullmatch(version) is None or not any(c.isalnum() for c in version):
                raise self.fail(
                    version, "neither PEP 440 nor a legacy version (letters, digits, . _ + - :)"
                ) from None
            return (0, LegacyVersion(version))
