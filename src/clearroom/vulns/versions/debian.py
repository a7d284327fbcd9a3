"""Debian: dpkg's version comparison (Debian Policy 5.6.12; dpkg lib/dpkg/version.c).

``[epoch:]upstream[-revision]``: the epoch is a number (0 when absent); the revision is what
follows the last ``-`` (``0`` when absent, so ``1.0 = 1.0-0``). Upstream and revision are
compared by alternating non-digit and digit runs: non-digit runs character by character where
``~`` sorts before everything (even the end), then the end, then letters, then other
characters; digit runs numerically. Upstream must start with a digit and use
``[A-Za-z0-9.+~-]`` (``:`` only with an epoch); the revision ``[A-Za-z0-9.+~]``.
Known deviations: none against the fixtures.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import VersionScheme

_UPSTREAM = re.compile(r"[0-9][A-Za-z0-9.+~:-]*")
_REVISION = re.compile(r"[A-Za-z0-9.+~]+")
_RUNS = re.compile(r"([^0-9]*)([0-9]*)")
_PAD = ((0,), 0)


def _char_order(c: str) -> int:
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _string_key(text: str) -> tuple[Any, ...]:
    pairs: list[tuple[tuple[int, ...], int]] = []
    for letters, digits in _RUNS.findall(text):
        if not letters and not digits:
            continue
        pairs.append(((*(_char_order(c) for c in letters), 0), int(digits or "0")))
    while pairs and pairs[-1] == _PAD:
        pairs.pop()
    return (*pairs, _PAD)


class Debian(VersionScheme):
    spec: ClassVar[str] = "dpkg version comparison"

    def _parse(self, version: str) -> Any:
        epoch_text, colon, rest = version.partition(":")
        if not colon:
            epoch_text, rest = "0", version
        elif not epoch_text.isdigit():
            raise self.fail(version, "epoch is not a number")
        upstream, dash, revision = rest.rpartition("-")
        if not dash:
            upstream, revision = rest, "0"
        elif _REVISION.fullmatch(revision) is None:
            raise self.fail(version, "revision is empty or has characters other than A-Za-z0-9.+~")
        if _UPSTREAM.fullmatch(upstream) is None:
            raise self.fail(
                version, "upstream version must start with a digit and use A-Za-z0-9.+~-:"
            )
        if ":" in upstream and not colon:
            raise self.fail(version, "':' in the upstream version needs an epoch")
        return (int(epoch_text), _string_key(upstream), _string_key(revision))
