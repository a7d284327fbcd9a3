"""Helpers every parser shares: bounded warnings, hash-name and purl normalisation, timestamps.
Private: the parsers' public face is :mod:`clearroom.sbom.load`."""

from __future__ import annotations

import functools
import re
import sys
from collections import Counter
from datetime import datetime
from typing import Any

from packageurl import PackageURL

MAX_WARNINGS = 50
"""Distinct warnings kept per SBOM; the rest are counted so a hostile file cannot flood memory."""

_SHA_DASH = re.compile(r"^sha-?(1|224|256|384|512)$")
_PLAIN_PURL = re.compile(
    r"pkg:[a-z][a-z0-9._-]*/[A-Za-z0-9._~%:+-]+(?:/[A-Za-z0-9._~%:+-]+)*"
    r"(?:@[A-Za-z0-9._~%:+!-]+)?(?:\?[a-z][a-z0-9._-]*=[^&#\s]+(?:&[a-z][a-z0-9._-]*=[^&#\s]+)*)?"
)
"""A strict subset of the purls packageurl accepts: these skip the (slow) full parse."""


class Warnings:
    """Collects a parser's complaints, each kind once with a count."""

    def __init__(self, limit: int = MAX_WARNINGS) -> None:
        self._counts: Counter[str] = Counter()
        self._limit = limit
        self._dropped = 0

    def add(self, message: str) -> None:
        if message in self._counts or len(self._counts) < self._limit:
            self._counts[message] += 1
        else:
            self._dropped += 1

    def result(self) -> tuple[str, ...]:
        lines = [m if n == 1 else f"{m} (x{n})" for m, n in self._counts.items()]
        if self._dropped:
            lines.append(f"{self._dropped} further warnings not kept")
        return tuple(lines)


@functools.lru_cache(maxsize=256)
def hash_algorithm(name: str) -> str:
    """``SHA-256``/``SHA256``/``sha256`` -> ``sha256``; ``SHA3_256`` -> ``sha3-256``."""
    alg = name.strip().lower().replace("_", "-")
    match = _SHA_DASH.match(alg)
    return sys.intern(f"sha{match.group(1)}" if match else alg)


def shared(value: str | None) -> str | None:
    """One copy of strings that repeat across components (types, scopes, licences)."""
    return sys.intern(value) if value is not None and len(value) < 200 else value


def checked_purl(value: Any, where: str, warnings: Warnings) -> str | None:
    """The purl if it parses, else None and a warning (the component itself is kept)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        warnings.add(f"{where}: purl is not a string")
        return None
    purl = value.strip()
    if _PLAIN_PURL.fullmatch(purl):
        return purl
    try:
        PackageURL.from_string(purl)
    except ValueError as exc:
        warnings.add(f"{where}: malformed purl {purl[:200]!r} dropped ({exc})")
        return None
    return purl


def timestamp(value: Any, where: str, warnings: Warnings) -> datetime | None:
    """An ISO 8601 timestamp (``Z``, fractions of any length), or None with a warning."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    fraction = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if fraction:  # Python < 3.11 style limits and nanosecond fractions (Trivy, Syft)
        head, digits, tail = fraction.groups()
        try:
            return datetime.fromisoformat(f"{head}.{digits[:6]:0<6}{tail}".replace("Z", "+00:00"))
        except ValueError:
            pass
    warnings.add(f"{where}: unreadable timestamp {text[:60]!r}")
    return None


def text(value: Any) -> str | None:
    """A stripped non-empty string, or None (numbers become strings: versions like 1.0)."""
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        stripped = str(value).strip()
        return stripped or None
    return None


def as_list(value: Any) -> list[Any]:
    """Lists stay lists, a single object becomes a one-item list, None becomes []."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def unique_ref(ref: str | None, fallback: str, seen: set[str], warnings: Warnings) -> str:
    """A ref unique in this SBOM: the given one, or a generated one when absent or repeated."""
    if ref and ref not in seen:
        seen.add(ref)
        return ref
    if ref:
        warnings.add(f"duplicate ref {ref[:200]!r}: later components renamed")
    candidate, n = fallback, 1
    while candidate in seen:
        n += 1
        candidate = f"{fallback}#{n}"
    seen.add(candidate)
    return candidate
