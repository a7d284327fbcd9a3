"""OSV records (schema 1.x) as frozen objects, and the spec's evaluation algorithm.

Parsing is lenient but safe: a record that is not even an object with an ``id`` raises
:class:`InvalidAdvisory`; anything wrong *inside* a range (no ``introduced``, an event with two
kinds, a version the ecosystem cannot parse, an unknown type) flags that range with a reason
and makes it answer "unknown" instead of crashing or guessing.

    >>> adv = parse_advisory({"id": "X-1", "modified": "2024-01-01T00:00:00Z",
    ...     "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
    ...                   "ranges": [{"type": "ECOSYSTEM",
    ...                               "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]})
    >>> adv.affected[0].affects("1.1"), adv.affected[0].affects("1.2")
    (True, False)

``Affected.evaluate(version)`` follows the OSV spec's ``IsVulnerable`` pseudocode
(https://ossf.github.io/osv-schema/#evaluation): (1) a version listed in ``versions`` is
affected; (2) each SEMVER/ECOSYSTEM range is checked against its ``limit`` events, then its
events are walked in version order (``introduced: "0"`` first) - introduced sets, ``fixed``
(>=) and ``last_affected`` (>) clear; (3) any range that says affected decides. Where no range
can say yes but one could not be evaluated (GIT without a ``versions`` list, an invalid
range, an unparsable version, an unsupported ecosystem) the answer is ``None``: unknown.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from clearroom.errors import ClearroomError
from clearroom.vulns.purl import base_ecosystem, normalise_name
from clearroom.vulns.versions import UnknownEcosystem, UnparsableVersion, ecosystem

__all__ = [
    "Advisory",
    "Affected",
    "Evaluation",
    "Event",
    "InvalidAdvisory",
    "Package",
    "Range",
    "Reference",
    "SeverityEntry",
    "parse_advisory",
]

EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
EVENT_KINDS: Final = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES: Final = ("SEMVER", "ECOSYSTEM", "GIT")
_INTRODUCED, _FIXED, _LAST_AFFECTED, _LIMIT = range(4)
_KIND_CODE: Final = {"introduced": _INTRODUCED, "fixed": _FIXED, "last_affected": _LAST_AFFECTED}


class InvalidAdvisory(ClearroomError):
    """The record is not an OSV object at all (not an object, no string ``id``)."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The answer for one version: ``affected`` is True, False, or None for "unknown"."""

    affected: bool | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    version: str


@dataclass(frozen=True, slots=True)
class Package:
    ecosystem: str
    name: str
    purl: str | None = None


@dataclass(frozen=True, slots=True)
class SeverityEntry:
    type: str
    score: str


@dataclass(frozen=True, slots=True)
class Reference:
    type: str
    url: str


def _ecosystem_order(name: str) -> Any:
    """The version ordering of an OSV ecosystem, or None where we have none."""
    try:
        return ecosystem(name)
    except UnknownEcosystem:
        return None


def _parse_key(order: Any, version: str) -> tuple[Any, str | None]:
    """(key, None) or (None, why) - never raises."""
    try:
        return order.key(version), None
    except UnparsableVersion as exc:
        return None, f"unparsable version {version!r}: {exc}"
    except (ValueError, TypeError, IndexError) as exc:  # a lenient parser's own failure
        return None, f"unparsable version {version!r}: {exc}"


@dataclass(frozen=True)
class Range:
    """One ``ranges[]`` entry. ``invalid`` says why it cannot be evaluated (None = fine)."""

    type: str
    events: tuple[Event, ...]
    repo: str | None = None
    database_specific: Mapping[str, Any] | None = None
    invalid: str | None = None
    # (kind code, key) in evaluation order; introduced "0" has key None and sorts first.
    _walk: tuple[tuple[int, Any], ...] = field(default=(), repr=False, compare=False)
    _limits: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def evaluable(self) -> bool:
        return self.invalid is None and self.type in ("SEMVER", "ECOSYSTEM")

    def includes(self, key: Any) -> bool:
        """The spec's BeforeLimits + event walk for an already-parsed version key."""
        if self._limits and not any(lim is None or key < lim for lim in self._limits):
            return False
        vulnerable = False
        for kind, at in self._walk:
            if kind == _INTRODUCED:
                if at is None or not key < at:
                    vulnerable = True
            elif kind == _FIXED:
                if not key < at:
                    vulnerable = False
            elif at < key:  # last_affected
                vulnerable = False
        return vulnerable


def _parse_events(raw: Any) -> tuple[tuple[Event, ...], str | None]:
    if not isinstance(raw, list):
        return (), "events is not a list"
    events: list[Event] = []
    problem: str | None = None
    for item in raw:
        if not isinstance(item, dict) or len(item) != 1:
            problem = problem or f"event {item!r} must have exactly one kind"
            continue
        ((kind, version),) = item.items()
        if kind not in EVENT_KINDS:
            problem = problem or f"unknown event kind {kind!r}"
            continue
        if not isinstance(version, str) or not version:
            problem = problem or f"{kind} version is not a non-empty string"
            continue
        events.append(Event(kind, version))
    return tuple(events), problem


def _build_range(raw: Any, order: Any, ecosystem_name: str) -> Range:
    if not isinstance(raw, dict):
        return Range(type="?", events=(), invalid="range is not an object")
    rtype = raw.get("type")
    rtype = rtype if isinstance(rtype, str) else "?"
    repo = raw.get("repo") if isinstance(raw.get("repo"), str) else None
    dbs = raw.get("database_specific") if isinstance(raw.get("database_specific"), dict) else None
    events, problem = _parse_events(raw.get("events"))
    base = Range(type=rtype, events=events, repo=repo, database_specific=dbs)

    def flagged(reason: str) -> Range:
        return Range(rtype, events, repo, dbs, invalid=reason)

    if problem:
        return flagged(problem)
    if rtype not in RANGE_TYPES:
        return flagged(f"unknown range type {rtype!r}")
    if not any(e.kind == "introduced" for e in events):
        return flagged("no introduced event")
    if rtype == "GIT":
        return base
    if order is None:
        return flagged(f"no version ordering for ecosystem {ecosystem_name!r}")
    walk: list[tuple[tuple[int, ...] | tuple[int, Any], int, Any]] = []
    limits: list[Any] = []
    for event in events:
        if event.kind == "introduced" and event.version == "0":
            walk.append(((0,), _INTRODUCED, None))
            continue
        if event.kind == "limit" and "*" in event.version:
            limits.append(None)
            continue
        key, why = _parse_key(order, event.version)
        if why is not None:
            return flagged(f"{event.kind}: {why}")
        if event.kind == "limit":
            limits.append(key)
        else:
            walk.append(((1, key), _KIND_CODE[event.kind], key))
    try:  # stable: events at the same version keep the record's order
        walk.sort(key=lambda item: item[0])
    except TypeError as exc:
        return flagged(f"event versions do not compare: {exc}")
    return Range(
        rtype,
        events,
        repo,
        dbs,
        _walk=tuple((code, key) for _, code, key in walk),
        _limits=tuple(limits),
    )


@dataclass(frozen=True)
class Affected:
    package: Package
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[SeverityEntry, ...] = ()
    ecosystem_specific: Mapping[str, Any] | None = None
    database_specific: Mapping[str, Any] | None = None
    _order: Any = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def _listed(self) -> frozenset[str]:
        return frozenset(self.versions)

    @functools.cached_property
    def _listed_keys(self) -> tuple[Any, ...]:
        """Sorted keys of the parsable listed versions, so "1.0" finds a listed "1.0.0"."""
        if self._order is None or not self.versions:
            return ()
        keys = [k for k, why in (_parse_key(self._order, v) for v in self.versions) if not why]
        try:
            return tuple(sorted(keys))
        except TypeError:
            return ()

    @functools.cached_property
    def index_key(self) -> tuple[str, str]:
        """(base ecosystem, normalised name): what the store indexes and purls map to."""
        eco = self.package.ecosystem
        return base_ecosystem(eco), normalise_name(eco, self.package.name)

    @property
    def invalid_ranges(self) -> tuple[Range, ...]:
        return tuple(r for r in self.ranges if r.invalid is not None)

    def affects(self, version: str) -> bool | None:
        """True / False / None (unknown) - see :meth:`evaluate` for the reason."""
        return self.evaluate(version).affected

    def evaluate(self, version: str, *, ranges_only: bool = False) -> Evaluation:
        """The spec's evaluation for this package entry; ``ranges_only`` ignores ``versions``
        (used to check that a record's ranges and list agree)."""
        use_list = bool(self.versions) and not ranges_only
        if use_list and version in self._listed:
            return Evaluation(True, "listed in versions")
        key: Any = None
        key_problem: str | None = None
        if self._order is None:
            key_problem = f"no version ordering for ecosystem {self.package.ecosystem!r}"
        else:
            key, key_problem = _parse_key(self._order, version)
        if use_list and key is not None and self._listed_keys:
            keys = self._listed_keys
            at = bisect.bisect_left(keys, key)
            if at < len(keys) and keys[at] == key:
                return Evaluation(True, "listed in versions")
        unknown: list[str] = []
        for rng in self.ranges:
            if rng.type == "GIT" and rng.invalid is None:
                if not use_list:  # the enumerated list stands in for the commit graph
                    unknown.append("GIT range needs the repository's commit graph")
                continue
            if rng.invalid is not None:
                unknown.append(f"invalid {rng.type} range: {rng.invalid}")
                continue
            if key is None:
                unknown.append(key_problem or "unparsable version")
                continue
            try:
                if rng.includes(key):
                    return Evaluation(True, f"in {rng.type} range")
            except TypeError as exc:
                unknown.append(f"version does not compare with the range: {exc}")
        if unknown:
            return Evaluation(None, "; ".join(dict.fromkeys(unknown)))
        return Evaluation(False, "")

    def fixed_versions(self) -> tuple[str, ...]:
        """The ``fixed`` versions of the SEMVER/ECOSYSTEM ranges, in version order."""
        return self._fixed

    @functools.cached_property
    def _fixed(self) -> tuple[str, ...]:
        fixed = [
            e.version for r in self.ranges if r.type != "GIT" for e in r.events if e.kind == "fixed"
        ]
        fixed = list(dict.fromkeys(fixed))
        if self._order is not None:
            keyed = [(_parse_key(self._order, v)[0], v) for v in fixed]
            if all(k is not None for k, _ in keyed):
                try:
                    return tuple(v for _, v in sorted(keyed, key=lambda kv: kv[0]))
                except TypeError:
                    pass
        return tuple(fixed)


@dataclass(frozen=True)
class Advisory:
    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[SeverityEntry, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    schema_version: str | None = None
    database_specific: Mapping[str, Any] | None = None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn is not None

    @property
    def ids(self) -> frozenset[str]:
        """The record's own id with its aliases: the keys that join duplicate advisories."""
        return frozenset((self.id, *self.aliases))


def _strings(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(s for s in raw if isinstance(s, str))


def _str(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


def _severity(raw: Any) -> tuple[SeverityEntry, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        SeverityEntry(s["type"], s["score"])
        for s in raw
        if isinstance(s, dict)
        and isinstance(s.get("type"), str)
        and isinstance(s.get("score"), str)
    )


def _mapping(raw: Any) -> Mapping[str, Any] | None:
    return raw if isinstance(raw, dict) else None


def _affected(raw: Any) -> Affected | None:
    if not isinstance(raw, dict):
        return None
    pkg = raw.get("package")
    if not isinstance(pkg, dict):
        pkg = {}
    package = Package(
        ecosystem=_str(pkg.get("ecosystem")) or "",
        name=_str(pkg.get("name")) or "",
        purl=_str(pkg.get("purl")),
    )
    order = _ecosystem_order(package.ecosystem) if package.ecosystem else None
    ranges_raw = raw.get("ranges")
    ranges: Sequence[Any] = ranges_raw if isinstance(ranges_raw, list) else ()
    return Affected(
        package=package,
        ranges=tuple(_build_range(r, order, package.ecosystem) for r in ranges),
        versions=_strings(raw.get("versions")),
        severity=_severity(raw.get("severity")),
        ecosystem_specific=_mapping(raw.get("ecosystem_specific")),
        database_specific=_mapping(raw.get("database_specific")),
        _order=order,
    )


def parse_advisory(data: Any) -> Advisory:
    """An OSV record (already JSON-decoded) as an :class:`Advisory`."""
    if not isinstance(data, dict):
        raise InvalidAdvisory("vulns: an OSV record must be a JSON object")
    ident = data.get("id")
    if not isinstance(ident, str) or not ident:
        raise InvalidAdvisory("vulns: an OSV record needs a string id")
    affected_raw = data.get("affected")
    affected = (
        tuple(a for a in map(_affected, affected_raw) if a is not None)
        if isinstance(affected_raw, list)
        else ()
    )
    refs_raw = data.get("references")
    references = (
        tuple(
            Reference(_str(r.get("type")) or "", r["url"])
            for r in refs_raw
            if isinstance(r, dict) and isinstance(r.get("url"), str)
        )
        if isinstance(refs_raw, list)
        else ()
    )
    return Advisory(
        id=ident,
        modified=_str(data.get("modified")) or "",
        published=_str(data.get("published")),
        withdrawn=_str(data.get("withdrawn")),
        aliases=_strings(data.get("aliases")),
        related=_strings(data.get("related")),
        upstream=_strings(data.get("upstream")),
        summary=_str(data.get("summary")) or "",
        details=_str(data.get("details")) or "",
        severity=_severity(data.get("severity")),
        affected=affected,
        references=references,
        schema_version=_str(data.get("schema_version")),
        database_specific=_mapping(data.get("database_specific")),
    )
