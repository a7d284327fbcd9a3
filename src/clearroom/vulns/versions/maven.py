"""Maven: the "Version Order Specification" of the POM reference
(https://maven.apache.org/pom.html#version-order-specification), which documents
``ComparableVersion`` and is what OSV's reference implementation follows.

1. Split on ``.`` and ``-`` and at every digit/non-digit transition (a transition counts as a
   ``-``); an empty token is ``0``; tokens are case-insensitive; ``cr`` is ``rc``; ``ga``,
   ``final`` and ``release`` are the empty qualifier; ``a``, ``b``, ``m`` directly followed by a
   digit are ``alpha``, ``beta``, ``milestone``; leading zeros of numbers are dropped.
2. Trailing "null" tokens (``0``, ``""``, ``final``, ``ga``) are trimmed at the end and before
   every remaining hyphen, from the end to the start.
3. Compare token by token; the shorter list is padded with nulls of the other side's prefix
   (``.0`` or ``-""``). Same prefix: numbers numerically, numbers after qualifiers, qualifiers
   ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`` and unknown
   ones after them, alphabetically. Different prefix: ``.qualifier < -qualifier < -number <
   .number``.

Known deviations: maven-artifact 3.9's ``ComparableVersion`` differs from its own specification
on some odd inputs (it orders ``1-ga-1`` before ``1-1``; the specification and the fixture say
equal). Like Maven's comparator, this order is not transitive for a few contrived mixes of
empty qualifiers and zeros (``1-ga.5``, ``1.0.0.alpha``, ``1``), so the key compares pairwise.
Any printable ASCII without whitespace is accepted, as Maven accepts any string.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import PairwiseKey, VersionScheme

_QUALIFIERS = {
    q: i for i, q in enumerate(("alpha", "beta", "milestone", "rc", "snapshot", "", "sp"))
}
_UNKNOWN = len(_QUALIFIERS)
_ALIASES = {"cr": "rc", "ga": "", "final": "", "release": ""}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_TRIMMED = frozenset(("0", "", "final", "ga"))
_PIECES = re.compile(r"[0-9]+|[^0-9]+")

# a token: (prefix, value, is_number, number); prefixes "", ".", "-"
_Token = tuple[str, str, bool, int]


def _order(token: _Token, padded: bool) -> int:
    """Rank of the prefix/kind pair when prefixes differ: .qual < -qual < -number < .number."""
    prefix, _, is_number, _ = token
    if is_number and not padded:
        return 2 if prefix == "-" else 3
    return 1 if prefix == "-" else 0


def _less(a: _Token, a_null: bool, b: _Token, b_null: bool) -> bool:
    if a[0] != b[0]:
        return _order(a, a_null) < _order(b, b_null)
    if a[2] and b[2]:
        return a[3] < b[3]
    if a[2] and not a_null:
        return False
    if b[2] and not b_null:
        return True
    ia = _QUALIFIERS.get(a[1], _UNKNOWN)
    ib = _QUALIFIERS.get(b[1], _UNKNOWN)
    if ia == _UNKNOWN and ib == _UNKNOWN:
        return a[1] < b[1]
    return ia < ib


def _null_for(token: _Token) -> _Token:
    if token[0] == ".":
        # "sp" is the one qualifier above the release; the padded null must act as "" there
        return (".", "", False, 0) if token[1] == "sp" else (".", "0", True, 0)
    return (token[0], "", False, 0)


class MavenKey(PairwiseKey):
    __slots__ = ("numbers", "tokens")

    def __init__(self, tokens: tuple[_Token, ...]) -> None:
        self.tokens = tokens
        # Plain dotted numbers ("1.2.3", the common case) compare like tuples of ints: their
        # trailing zeros are trimmed, so zero-padding and tuple order agree.
        self.numbers: tuple[int, ...] | None = (
            tuple(t[3] for t in tokens)
            if all(t[2] and t[0] == ("." if i else "") for i, t in enumerate(tokens))
            else None
        )

    def _hash_key(self) -> Any:
        return tuple((t[0], t[1]) for t in self.tokens)

    def _cmp(self, other: Any) -> int:
        mine_numbers, their_numbers = self.numbers, other.numbers
        if mine_numbers is not None and their_numbers is not None:
            return int(mine_numbers > their_numbers) - int(mine_numbers < their_numbers)
        mine, theirs = self.tokens, other.tokens
        for i in range(max(len(mine), len(theirs))):
            a_null = i >= len(mine)
            b_null = i >= len(theirs)
            a = _null_for(theirs[i]) if a_null else mine[i]
            b = _null_for(mine[i]) if b_null else theirs[i]
            if a[0] == b[0] and a[1] == b[1]:
                continue
            return -1 if _less(a, a_null, b, b_null) else 1
        return 0

    # the comparisons walks, sorts and bisects make, with the plain-numbers case first
    def __lt__(self, other: Any) -> bool:
        mine, theirs = self.numbers, other.numbers
        if mine is not None and theirs is not None:
            return bool(mine < theirs)
        return self._cmp(other) < 0

    def __eq__(self, other: object) -> bool:
        if type(other) is not MavenKey:
            return False
        mine, theirs = self.numbers, other.numbers
        if mine is not None and theirs is not None:
            return bool(mine == theirs)
        return self._cmp(other) == 0

    def __hash__(self) -> int:  # defining __eq__ would otherwise drop the inherited one
        return hash(self._hash_key())

    def __repr__(self) -> str:
        return "MavenKey(" + "".join(f"{t[0]}{t[1]}" for t in self.tokens) + ")"


class Maven(VersionScheme):
    spec: ClassVar[str] = "Maven POM Version Order Specification"

    def _parse(self, version: str) -> Any:
        tokens: list[_Token] = []
        position = 0
        for separator_index, raw in enumerate(re.split(r"([.-])", version)):
            if separator_index % 2:
                continue
            prefix = "" if position == 0 else version[position - 1]
            position += len(raw) + 1
            pieces = _PIECES.findall(raw) or [""]
            for j, piece in enumerate(pieces):
                value = piece.lower() or "0"
                value = _ALIASES.get(value, value)
                if j + 1 < len(pieces):
                    value = _SHORT.get(value, value)
                is_number = value.isdigit()
                number = int(value) if is_number else 0
                if is_number:
                    value = str(number)
                tokens.append((prefix if j == 0 else "-", value, is_number, number))
        # trim nulls at the end, then before each remaining hyphen, from the end
        i = len(tokens) - 1
        while i > 0:
            if tokens[i][1] in _TRIMMED:
                del tokens[i]
                i -= 1
                continue
            while i >= 0 and tokens[i][0] != "-":
                i -= 1
            i -= 1
        return MavenKey(tuple(tokens))
