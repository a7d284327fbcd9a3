"""Which statement holds for a product: matching a component's purl, and newest-wins
resolution that keeps the statements it overruled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from packageurl import PackageURL

from . import _vers
from .errors import VexError
from .model import ProductRef, VexStatement

Key = tuple[str, str]
"""(vulnerability id, product key): see :attr:`ProductRef.key`."""

_OLDEST = datetime.min.replace(tzinfo=UTC)


def applies_to(statement: VexStatement, purl: str, version: str | None = None) -> bool:
    """Whether ``statement`` speaks about the package ``purl`` names, as one of its products
    or their subcomponents. Qualifiers are ignored. The version is the purl's, else
    ``version``; a product without a version or range covers every version, and a versioned
    product never matches a component whose version is unknown."""
    try:
        target = PackageURL.from_string(purl)
    except ValueError as error:
        raise VexError(f"VEX: {purl!r} is not a valid package URL ({error})") from None
    wanted = target.version or version
    return any(
        _matches(ref, target, wanted)
        for product in statement.products
        for ref in (product, *product.subcomponents)
    )


def _matches(ref: ProductRef, target: PackageURL, version: str | None) -> bool:
    if not ref.purl:
        return False
    try:
        candidate = PackageURL.from_string(ref.purl)
    except ValueError:
        return False
    same = (candidate.type, candidate.namespace, candidate.name, candidate.subpath or None) == (
        target.type,
        target.namespace,
        target.name,
        target.subpath or None,
    )
    if not same:
        return False
    if ref.version_range:
        return version is not None and _vers.contains(ref.version_range, version) is True
    pinned = candidate.version or ref.version
    return pinned is None or pinned == version


@dataclass(frozen=True, slots=True)
class Resolution:
    current: dict[Key, VexStatement]
    """The newest statement per (vulnerability, product)."""
    conflicts: dict[Key, tuple[VexStatement, ...]]
    """Where statements disagree on the status: all of them, oldest first (the last won)."""


def resolve(statements: Iterable[VexStatement]) -> Resolution:
    """Newest wins, by timestamp (a statement without one is oldest), then by order given."""
    history: dict[Key, list[tuple[datetime, int, VexStatement]]] = {}
    for order, statement in enumerate(statements):
        when = statement.timestamp or _OLDEST
        for product in statement.products:
            key = (statement.vulnerability, product.key)
            history.setdefault(key, []).append((when, order, statement))
    current: dict[Key, VexStatement] = {}
    conflicts: dict[Key, tuple[VexStatement, ...]] = {}
    for key, entries in history.items():
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        ordered = tuple(statement for _, _, statement in entries)
        current[key] = ordered[-1]
        if len({s.status for s in ordered}) > 1:
            conflicts[key] = ordered
    return Resolution(current=current, conflicts=conflicts)
