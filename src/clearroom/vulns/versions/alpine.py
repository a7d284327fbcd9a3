"""Alpine: apk version ordering, as documented in apk-package(5) and followed by OSV:
``number{.number}...{letter{number}}{_suffix{number}}...{~hash}{-r#}``.

Numbers compare numerically, except that after the first one a number written with a leading
zero compares as a string (``1.02 < 1.1``; missing numbers are 0); then the optional single
lower-case letter (none < a < z) and the number right after it, as apk 2 tokenises
``5.1p1-r0`` and ``1.9.5p2`` (the openssh and sudo histories; none < ``p`` < ``p0`` < ``p1``,
a leading zero compares as a string); then the suffixes pairwise, ``_alpha < _beta < _pre < _rc <
(none) < _cvs < _svn < _git < _hg < _p``, each with its number (default 0); then ``-r#``
(absent = ``-r0``, ``-r`` = ``-r0``). The ``~hash`` is ignored.

Known deviations: strings outside that grammar (upper-case letters, unknown suffixes such as
``_blah``, ``-r-1``, a leading ``.``, more numbers after the letter's: ``1.2p1.3``) are
refused; ``apk version -t`` orders some of them by its
own fallbacks, which differ between apk 2 and apk 3. The leading-zero rule makes the order
non-transitive for a few padded zeros (``1.0``, ``1``, ``1.00``), so the key compares pairwise.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import PairwiseKey, VersionScheme, sign

_SUFFIX = re.compile(r"(alpha|beta|pre|rc|cvs|svn|git|hg|p)([0-9]*)")
_WEIGHTS = {
    s: i for i, s in enumerate(("alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"))
}
_NO_SUFFIX = (_WEIGHTS[""], 0)
_HASH = re.compile(r"~[0-9a-f]+")
_DIGITS = re.compile(r"[0-9]*")


def _component_cmp(a: str, a_first: bool, b: str, b_first: bool) -> int:
    if not a_first and not b_first and (a[0] == "0" or b[0] == "0"):
        return -1 if a < b else (1 if a > b else 0)
    return sign(int(a) - int(b))


class AlpineKey(PairwiseKey):
    __slots__ = ("build", "components", "letter", "letter_number", "suffixes")

    def __init__(
        self,
        components: tuple[str, ...],
        letter: str,
        suffixes: tuple[tuple[int, int], ...],
        build: int,
        letter_number: str = "",
    ) -> None:
        self.components = components
        self.letter = letter
        self.letter_number = letter_number
        self.suffixes = suffixes
        self.build = build

    def _hash_key(self) -> Any:
        # versions that compare equal agree on every number's value (a leading-zero string tie
        # means the same digits), the letter, the suffixes without trailing no-suffixes, -r
        numbers = [int(c) for c in self.components]
        while numbers and numbers[-1] == 0:
            numbers.pop()
        suffixes = list(self.suffixes)
        while suffixes and suffixes[-1] == _NO_SUFFIX:
            suffixes.pop()
        after_letter = int(self.letter_number) if self.letter_number else -1
        return (tuple(numbers), self.letter, after_letter, tuple(suffixes), self.build)

    def _cmp(self, other: Any) -> int:
        mine, theirs = self.components, other.components
        for i in range(max(len(mine), len(theirs))):
            a, a_pad = (mine[i], False) if i < len(mine) else ("0", True)
            b, b_pad = (theirs[i], False) if i < len(theirs) else ("0", True)
            diff = _component_cmp(a, a_pad or i == 0, b, b_pad or i == 0)
            if diff:
                return diff
        if self.letter != other.letter:
            return -1 if self.letter < other.letter else 1
        mine_n, theirs_n = self.letter_number, other.letter_number
        if mine_n != theirs_n:  # apk: no number after the letter < any number (p < p0 < p1)
            if not mine_n or not theirs_n:
                return -1 if not mine_n else 1
            diff = _component_cmp(mine_n, False, theirs_n, False)
            if diff:
                return diff
        for i in range(max(len(self.suffixes), len(other.suffixes))):
            sa = self.suffixes[i] if i < len(self.suffixes) else _NO_SUFFIX
            sb = other.suffixes[i] if i < len(other.suffixes) else _NO_SUFFIX
            if sa != sb:
                return -1 if sa < sb else 1
        return sign(self.build - other.build)


class Alpine(VersionScheme):
    spec: ClassVar[str] = "apk-package(5) version"

    def _parse(self, version: str) -> Any:
        n, i = len(version), 0
        components: list[str] = []
        while True:
            end = _DIGITS.match(version, i).end()  # type: ignore[union-attr]
            if end == i:
                raise self.fail(version, f"expected a number at position {i}")
            components.append(version[i:end])
            i = end
            if i < n and version[i] == "." and i + 1 < n and version[i + 1].isdigit():
                i += 1
                continue
            break
        letter, letter_number = "", ""
        if i < n and "a" <= version[i] <= "z":
            letter, i = version[i], i + 1
            end = _DIGITS.match(version, i).end()  # type: ignore[union-attr]
            letter_number, i = version[i:end], end
        suffixes: list[tuple[int, int]] = []
        while i < n and version[i] == "_":
            m = _SUFFIX.match(version, i + 1)
            if m is None:
                raise self.fail(
                    version,
                    "unknown suffix (expected _alpha, _beta, _pre, _rc, "
                    "_cvs, _svn, _git, _hg or _p)",
                )
            suffixes.append((_WEIGHTS[m[1]], int(m[2] or "0")))
            i = m.end()
        if i < n and version[i] == "~":
            m = _HASH.match(version, i)
            if m is None:
                raise self.fail(version, "a ~hash must be lower-case hexadecimal")
            i = m.end()
        build = 0
        if version.startswith("-r", i):
            end = _DIGITS.match(version, i + 2).end()  # type: ignore[union-attr]
            build = int(version[i + 2 : end] or "0")
            i = end
        if i != n:
            raise self.fail(
                version,
                f"unexpected {version[i:]!r}: expected "
                "number{.number}{letter}{_suffix{number}}{~hash}{-r#}",
            )
        return AlpineKey(tuple(components), letter, tuple(suffixes), build, letter_number)
