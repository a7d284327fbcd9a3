"""CVSS vectors to base scores and ratings (RedHat's ``cvss`` library does the arithmetic).

    >>> s = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    >>> (s.version, s.score, s.rating)
    ('3.1', 9.8, 'CRITICAL')
    >>> score_vector("CVSS:3.1/AV:X").reason
    'CVSS 3.1: Unknown value "X" in field "AV:X"'

A bad vector never raises: it gives a :class:`Score` with ``score=None`` and the reason.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import cvss
from cvss.exceptions import CVSSError

__all__ = ["RATINGS", "Score", "best_score", "score_vector"]

RATINGS: Final = ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL")
MAX_VECTOR_LENGTH: Final = 512
_TYPE_ORDER: Final = {"CVSS_V4": 3, "CVSS_V3": 2, "CVSS_V2": 1}


@dataclass(frozen=True, slots=True)
class Score:
    """A severity: ``version`` is "2.0", "3.0", "3.1" or "4.0" ("" for a rating without a
    vector); ``score`` and ``rating`` are None with a ``reason`` when the vector is bad."""

    vector: str
    version: str
    score: float | None
    rating: str | None
    reason: str | None = None


def _rating_v2(score: float) -> str:
    # CVSS v2 defines no ratings; NVD's bands are the convention everyone uses.
    return "LOW" if score < 4.0 else "MEDIUM" if score < 7.0 else "HIGH"


@functools.lru_cache(maxsize=8192)
def score_vector(vector: str) -> Score:
    """Score a CVSS v2, v3.0, v3.1 or v4.0 vector string."""
    if not isinstance(vector, str) or not vector.strip():
        return Score("", "", None, None, "CVSS: empty vector")
    text = vector.strip()
    if len(text) > MAX_VECTOR_LENGTH:
        return Score(text[:64], "", None, None, "CVSS: vector too long")
    if text.startswith("CVSS:4.0/"):
        version = "4.0"
    elif text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        version = text[5:8]
    elif text.startswith("CVSS:"):
        return Score(text, "", None, None, f"CVSS: unsupported version in {text[:16]!r}")
    else:
        version = "2.0"
    try:
        if version == "4.0":
            v4 = cvss.CVSS4(text)
            base = float(v4.base_score)
            rating = str(v4.severity).upper()
        elif version == "2.0":
            base = float(cvss.CVSS2(text.removeprefix("(").removesuffix(")")).scores()[0])
            rating = _rating_v2(base)
        else:
            v3 = cvss.CVSS3(text)
            base = float(v3.scores()[0])
            rating = str(v3.severities()[0]).upper()
    except CVSSError as exc:
        return Score(text, version, None, None, f"CVSS {version}: {exc}")
    except (ValueError, KeyError, IndexError, TypeError) as exc:  # the library's own edges
        return Score(text, version, None, None, f"CVSS {version}: malformed vector ({exc})")
    return Score(text, version, base, rating)


def best_score(entries: Iterable[tuple[str, str]]) -> Score | None:
    """From OSV ``severity`` entries ``(type, score)``, the newest CVSS version that scores.

    A vector that fails to score is returned (with its reason) only if nothing scored."""
    scored: list[tuple[int, Score]] = []
    failed: Score | None = None
    for kind, value in entries:
        rank = _TYPE_ORDER.get(kind)
        if rank is None:
            continue
        result = score_vector(value)
        if result.score is None:
            failed = failed or result
        else:
            scored.append((rank, result))
    if scored:
        return max(scored, key=lambda item: item[0])[1]
    return failed
