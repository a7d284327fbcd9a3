"""Just enough of the ``vers:`` version-range syntax (purl-spec VERSION-RANGE-SPEC) to decide
whether a version falls in a VEX product range, with a natural version order."""

from __future__ import annotations

import itertools
import re

_OPERATORS = (">=", "<=", "!=", "<", ">", "=")
_TOKEN = re.compile(r"\d+|[A-Za-z]+")
_Part = tuple[int, int | str]
_Key = tuple[tuple[_Part, ...], int, tuple[_Part, ...]]


def contains(vers: str, version: str) -> bool | None:
    """Whether ``version`` is in the range; None when the range cannot be read."""
    scheme, _, constraints = vers.removeprefix("vers:").partition("/")
    if not vers.startswith("vers:") or not scheme or not constraints.strip():
        return None
    if constraints.strip() == "*":
        return True
    parsed: list[tuple[str, _Key]] = []
    for raw in constraints.split("|"):
        raw = raw.strip()
        op = next((o for o in _OPERATORS if raw.startswith(o)), "=")
        bound = raw[len(op) :].strip() if raw.startswith(op) else raw
        if not bound:
            return None
        parsed.append((op, _key(bound)))
    v = _key(version)
    if any(op == "=" and v == bound for op, bound in parsed):
        return True
    if any(op == "!=" and v == bound for op, bound in parsed):
        return False
    ranges = sorted((b, op) for op, b in parsed if op not in ("=", "!="))
    if not ranges:
        return False
    first_bound, first_op = ranges[0]
    if first_op in ("<", "<=") and _holds(v, first_op, first_bound):
        return True
    last_bound, last_op = ranges[-1]
    if last_op in (">", ">=") and _holds(v, last_op, last_bound):
        return True
    for (low, low_op), (high, high_op) in itertools.pairwise(ranges):
        bounded = low_op in (">", ">=") and high_op in ("<", "<=")
        if bounded and _holds(v, low_op, low) and _holds(v, high_op, high):
            return True
    return False


def _holds(v: _Key, op: str, bound: _Key) -> bool:
    return {
        "<": v < bound,
        "<=": v <= bound,
        ">": v > bound,
        ">=": v >= bound,
    }[op]


def _key(version: str) -> _Key:
    """Numbers compare as numbers, words as text; a pre-release (``-rc1``) sorts before its
    release; build metadata (``+...``) and trailing ``.0`` are ignored."""
    release, _, pre = version.split("+", 1)[0].lstrip("vV").partition("-")
    parts = [_part(t) for t in _TOKEN.findall(release)]
    while parts and parts[-1] == (0, 0):
        parts.pop()
    return (tuple(parts), 0 if pre else 1, tuple(_part(t) for t in _TOKEN.findall(pre)))


def _part(token: str) -> _Part:
    return (0, int(token)) if token.isdigit() else (-1, token.lower())
