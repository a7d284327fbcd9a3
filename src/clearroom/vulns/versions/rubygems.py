"""RubyGems: ``Gem::Version`` (rubygems/version.rb).

A version matches ``[0-9]+(\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?``; ``-`` is
read as ``.pre.``. Segments are runs of digits (integers) or of letters (strings, compared
case-sensitively); the canonical segments drop trailing zeros from the numeric release part and
from the pre-release part; comparison pads with 0 and puts strings before numbers.
Known deviations: surrounding whitespace, which RubyGems strips, is refused here.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import VersionScheme

_GEM = re.compile(r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")
_END = (1, 0, 0)


def _strip_zeros(segments: list[int | str]) -> list[int | str]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


class RubyGems(VersionScheme):
    spec: ClassVar[str] = "RubyGems Gem::Version"

    def _parse(self, version: str) -> Any:
        # the pattern's groups are delimited by "." and "-", so matching is linear
        if _GEM.fullmatch(version) is None:
            raise self.fail(version, "malformed version number string")
        text = version.replace("-", ".pre.")
        segments: list[int | str] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text)]
        first_string = next(
            (i for i, s in enumerate(segments) if isinstance(s, str)), len(segments)
        )
        canonical = _strip_zeros(segments[:first_string]) + _strip_zeros(segments[first_string:])
        # Padding is 0: a 0 ties with the padding, so it carries the direction of what follows
        # (a later number > 0 means "above the padding", a string "below").
        key: list[tuple[Any, ...]] = []
        after = 0
        for segment in reversed(canonical):
            if isinstance(segment, str):
                key.append((0, segment))
                after = -1
            elif segment:
                key.append((1, segment, 0))
                after = 1
            else:
                key.append((1, 0, after))
        key.reverse()
        key.append(_END)
        return tuple(key)
