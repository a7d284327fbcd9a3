"""Packagist: Composer compares versions with PHP's ``version_compare``
(ext/standard/versioning.c); this implements it, after dropping a leading ``v``/``V``.

Canonicalisation: ``-``, ``_``, ``+`` and other non-alphanumerics become ``.``; a ``.`` is
inserted at every digit/non-digit transition. Parts compare left to right: numbers numerically;
words by their special form, matched by prefix and case-sensitively:
``dev < alpha = a < beta = b < RC = rc < [number] < pl = p``, any other word below ``dev``; a
number beats a word except ``p``/``pl``. When one side runs out, a following number makes the
longer side greater, a following word compares against a number (so ``1.0 < 1.0.0``,
``1.0rc1 < 1.0 < 1.0pl1``).

Known deviations: the ``#`` special form is refused (``1.2.3.#`` ties with both ``1.2.3`` and
``1.2.3.1``, which differ, so no order can hold it); numbers have no size limit (PHP clips them
to the platform integer). No Composer normalisation (``1.0`` stays below ``1.0.0`` and
``-stable`` is an unknown word), as in version_compare.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from clearroom.vulns.versions._common import VersionScheme

_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_PARTS = re.compile(r"[0-9]+|[A-Za-z]+")
_FORMS = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("pl", 5),
    ("p", 5),
)
_NUMBER = 4
_END = (_NUMBER, -1)  # what a finished version offers: above words up to rc, below numbers


def _form(word: str) -> int:
    for prefix, order in _FORMS:
        if word.startswith(prefix):
            return order
    return -6


class Packagist(VersionScheme):
    spec: ClassVar[str] = "PHP version_compare (Composer)"

    def _parse(self, version: str) -> Any:
        text = version[1:] if version[0] in "vV" else version
        if not text or _ALLOWED.fullmatch(text) is None or not text[-1].isalnum():
            raise self.fail(
                version,
                "expected letters and digits joined by . - _ + (no '#', no separator at an end)",
            )
        parts = tuple(
            (_NUMBER, int(p)) if p.isdigit() else (_form(p), 0) for p in _PARTS.findall(text)
        )
        return (*parts, _END)
