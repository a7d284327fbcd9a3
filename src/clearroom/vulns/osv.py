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
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

import orjson

from clearroom.errors import ClearroomError
from clearroom.vulns.purl import base_ecosystem, normalise_name
from clearroom.vulns.versions import UnknownEcosystem, UnparsableVersion, ecosystem

__all__ = [
    "INDEX_FORMAT",
    "Advisory",
    "Affected",
    "Evaluation",
    "Event",
    "IndexedAdvisory",
    "IndexedPackage",
    "InvalidAdvisory",
    "KeyCache",
    "Package",
    "Range",
    "Reference",
    "SeverityEntry",
    "evaluate_indexed",
    "index_record",
    "indexed_fixed",
    "parse_advisory",
]

EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
EVENT_KINDS: Final = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES: Final = ("SEMVER", "ECOSYSTEM", "GIT")
_INTRODUCED, _FIXED, _LAST_AFFECTED, _LIMIT = range(4)
_EVENT_CODE: Final = {kind: code for code, kind in enumerate(EVENT_KINDS)}
_CLOSING: Final = (_FIXED, _LAST_AFFECTED)
_FIRST: Final = (0,)  # the walk position of introduced "0": before every (1, key)


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


_Known = dict[str, tuple[Any, str | None]]
"""Version -> ``_parse_key`` answer, for one ordering: what one parse (or one matching run)
has already worked out, so a version met again costs a dict lookup."""


def _cached_key(order: Any, version: str, known: _Known) -> tuple[Any, str | None]:
    parsed = known.get(version)
    if parsed is None:
        parsed = known[version] = _parse_key(order, version)
    return parsed


@dataclass(frozen=True)
class Range:
    """One ``ranges[]`` entry. ``invalid`` says why it cannot be evaluated (None = fine)."""

    type: str
    events: tuple[Event, ...]
    repo: str | None = None
    database_specific: Mapping[str, Any] | None = None
    invalid: str | None = None
    # (position, kind code, key) in evaluation order: see _Walk
    _walk: tuple[tuple[Any, int, Any], ...] = field(default=(), repr=False, compare=False)
    _limits: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def evaluable(self) -> bool:
        return self.invalid is None and self.type in ("SEMVER", "ECOSYSTEM")

    def includes(self, key: Any) -> bool:
        """The spec's BeforeLimits + event walk for an already-parsed version key."""
        return _includes(self._walk, self._limits, key)


def _event_pairs(raw: Any) -> tuple[list[tuple[int, str]], str | None]:
    """The well-formed events of a range as ``(kind code, version)`` pairs, and the first
    problem met (None: every event was well-formed)."""
    if not isinstance(raw, list):
        return [], "events is not a list"
    pairs: list[tuple[int, str]] = []
    problem: str | None = None
    for item in raw:
        if not isinstance(item, dict) or len(item) != 1:
            problem = problem or f"event {item!r} must have exactly one kind"
            continue
        ((kind, version),) = item.items()
        code = _EVENT_CODE.get(kind) if isinstance(kind, str) else None
        if code is None:
            problem = problem or f"unknown event kind {kind!r}"
            continue
        if not isinstance(version, str) or not version:
            problem = problem or f"{kind} version is not a non-empty string"
            continue
        pairs.append((code, version))
    return pairs, problem


def _range_shape(raw: Any) -> tuple[str, list[tuple[int, str]], str | None]:
    """A range's type, its well-formed events, and why it cannot be evaluated whatever the
    versions say (None: nothing yet). Shared by the parser and the store's match index, so
    both flag exactly the same ranges."""
    if not isinstance(raw, dict):
        return "?", [], "range is not an object"
    rtype = raw.get("type")
    rtype = rtype if isinstance(rtype, str) else "?"
    pairs, problem = _event_pairs(raw.get("events"))
    if problem:
        return rtype, pairs, problem
    if rtype not in RANGE_TYPES:
        return rtype, pairs, f"unknown range type {rtype!r}"
    if _INTRODUCED not in [code for code, _ in pairs]:
        return rtype, pairs, "no introduced event"
    return rtype, pairs, None


def _first(item: tuple[Any, ...]) -> Any:
    return item[0]


_Walk = list[tuple[Any, int, Any]]
"""A range's events as evaluated: ``(position, kind code, key)`` in version order, where the
position is ``(1, key)``, or ``(0,)`` for ``introduced: "0"`` (key None), which comes first."""


def _compile(
    pairs: Sequence[Sequence[Any]], order: Any, known: _Known
) -> tuple[_Walk, list[Any]] | str:
    """A SEMVER/ECOSYSTEM range's events as the evaluation walk and its limits (None for
    ``*``); or why the versions cannot be ordered."""
    walk: _Walk = []
    limits: list[Any] = []
    for code, version in pairs:
        if code == _INTRODUCED and version == "0":
            walk.append((_FIRST, _INTRODUCED, None))
            continue
        if code == _LIMIT and "*" in version:
            limits.append(None)
            continue
        parsed = known.get(version)
        if parsed is None:
            parsed = known[version] = _parse_key(order, version)
        key, why = parsed
        if why is not None:
            return f"{EVENT_KINDS[code]}: {why}"
        if code == _LIMIT:
            limits.append(key)
        else:
            walk.append(((1, key), code, key))
    try:  # stable: events at the same version keep the record's order
        if len(walk) == 2:  # the usual range: what sort() does for two, without its set-up
            if walk[1][0] < walk[0][0]:
                walk.reverse()
        elif len(walk) > 2:
            walk.sort(key=_first)
    except TypeError as exc:
        return f"event versions do not compare: {exc}"
    return walk, limits


def _includes(walk: Sequence[tuple[Any, int, Any]], limits: Sequence[Any], key: Any) -> bool:
    """The spec's BeforeLimits + event walk for an already-parsed version key."""
    if limits and not any(lim is None or key < lim for lim in limits):
        return False
    vulnerable = False
    for _, kind, at in walk:
        if kind == _INTRODUCED:
            if at is None or not key < at:
                vulnerable = True
        elif kind == _FIXED:
            if not key < at:
                vulnerable = False
        elif at < key:  # last_affected
            vulnerable = False
    return vulnerable


def _build_range(raw: Any, order: Any, ecosystem_name: str, known: _Known) -> Range:
    rtype, pairs, problem = _range_shape(raw)
    events = tuple([Event(EVENT_KINDS[code], version) for code, version in pairs])
    if isinstance(raw, dict):
        repo = raw.get("repo")
        repo = repo if isinstance(repo, str) else None
        dbs = raw.get("database_specific")
        dbs = dbs if isinstance(dbs, dict) else None
    else:
        repo = dbs = None
    if problem is None and rtype != "GIT":
        if order is None:
            problem = f"no version ordering for ecosystem {ecosystem_name!r}"
        else:
            compiled = _compile(pairs, order, known)
            if isinstance(compiled, str):
                problem = compiled
            else:
                return Range(rtype, events, repo, dbs, None, tuple(compiled[0]), tuple(compiled[1]))
    return Range(rtype, events, repo, dbs, problem)


def _sorted_keys(order: Any, versions: Sequence[str], known: _Known) -> tuple[Any, ...]:
    """Sorted keys of the parsable ``versions``, () if they do not compare."""
    keys = [k for k, why in (_cached_key(order, v, known) for v in versions) if not why]
    try:
        return tuple(sorted(keys))
    except TypeError:
        return ()


def _ordered_fixed(order: Any, known: _Known, fixed: list[str]) -> tuple[str, ...]:
    """``fixed`` versions deduplicated and, when all parse and compare, in version order."""
    fixed = list(dict.fromkeys(fixed))
    if order is not None:
        keyed = [(_cached_key(order, v, known)[0], v) for v in fixed]
        if all(k is not None for k, _ in keyed):
            try:
                return tuple(v for _, v in sorted(keyed, key=_first))
            except TypeError:
                pass
    return tuple(fixed)


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
        return _sorted_keys(self._order, self.versions, {})

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
        return _ordered_fixed(self._order, {}, fixed)


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
    return tuple([s for s in raw if isinstance(s, str)])


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


def _severity_pairs(raw: Any) -> list[tuple[str, str]]:
    """``_severity`` as plain pairs, for the match index."""
    if not isinstance(raw, list) or not raw:
        return []
    return [
        (s["type"], s["score"])
        for s in raw
        if isinstance(s, dict)
        and isinstance(s.get("type"), str)
        and isinstance(s.get("score"), str)
    ]


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
    known: _Known = {}
    return Affected(
        package=package,
        ranges=tuple([_build_range(r, order, package.ecosystem, known) for r in ranges]),
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


# -- the match index ----------------------------------------------------------------------------
#
# Matching a large SBOM must not decode and parse every advisory of every package it names: the
# store keeps, per (ecosystem, name) a record names, a compact JSON form of just what evaluation
# reads - the aliases and, for the entries naming that package, the ecosystem, the ``versions``
# list, the ranges (type and well-formed events; None for the whole list when one range is
# invalid) and the entry's severities - and, apart, the "head" a finding shows (summary,
# severities, related ids, ``database_specific.severity``). ``evaluate_indexed`` gives exactly
# ``Affected.evaluate``'s answer from it, through the same helpers, or None where the compact
# form does not carry enough (an invalid range, no ordering for the ecosystem, a version that does
# not parse or compare): the matcher then evaluates the full record, so every answer is the
# full parser's.

INDEX_FORMAT: Final = 1
"""The layout of :func:`index_record`'s output; a store whose index was built with another
rebuilds it on open."""

_encode_slow = json.JSONEncoder(separators=(",", ":")).encode


def _encode(value: Any) -> str:
    """Compact JSON of index data. orjson writes it about nine times as fast as ``json`` and
    reads it back three times as fast, which is most of an import's and a scan's JSON work;
    what orjson refuses (a lone surrogate, an integer past 64 bits) goes through ``json``."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _encode_slow(value)


_decode = orjson.loads
_LISTED: Final = Evaluation(True, "listed in versions")
_IN_RANGE: Final = {t: Evaluation(True, f"in {t} range") for t in ("SEMVER", "ECOSYSTEM")}
_NOT_AFFECTED: Final = Evaluation(False, "")
_NEEDS_GRAPH: Final = Evaluation(None, "GIT range needs the repository's commit graph")


def _index_entry(raw: Mapping[str, Any], ecosystem_name: str) -> list[Any]:
    ranges_raw = raw.get("ranges")
    ranges: list[Any] | None = []
    for item in ranges_raw if isinstance(ranges_raw, list) else ():
        rtype, pairs, problem = _range_shape(item)
        if problem is not None:
            ranges = None  # the full parser says why; the compact form only knows it cannot
            break
        ranges.append([rtype, pairs if rtype != "GIT" else []])  # type: ignore[union-attr]
    severity = _severity_pairs(raw.get("severity"))
    versions = raw.get("versions")
    if not isinstance(versions, list):
        versions = []
    elif set(map(type, versions)) - {str}:  # osv.dev's lists are long: check them in C
        versions = [v for v in versions if isinstance(v, str)]
    return [ecosystem_name, versions, ranges, severity]


def index_record(data: Mapping[str, Any]) -> tuple[dict[tuple[str, str], str], str]:
    """The match index of one OSV record: compact JSON per (base ecosystem, normalised name)
    that one of its ``affected`` entries names (what the store indexes the record under), and
    the JSON of its head. Never raises on odd content; the record must be a JSON object."""
    aliases = list(_strings(data.get("aliases")))
    keys: dict[tuple[str, str], None] = {}
    entries: dict[tuple[str, str], list[Any]] = {}
    affected = data.get("affected")
    for raw in affected if isinstance(affected, list) else ():
        pkg = raw.get("package") if isinstance(raw, dict) else None
        if not isinstance(pkg, dict):
            continue
        eco, name = pkg.get("ecosystem"), pkg.get("name")
        if not (isinstance(eco, str) and isinstance(name, str) and eco and name):
            continue
        key = (base_ecosystem(eco), normalise_name(eco, name))
        keys[key] = None
        # an entry applies to a target whose base ecosystem matches ignoring case
        entries.setdefault((key[0].lower(), key[1]), []).append(_index_entry(raw, eco))
    rows = {key: _encode([aliases, entries[(key[0].lower(), key[1])]]) for key in keys}
    dbs = data.get("database_specific")
    rating = dbs.get("severity") if isinstance(dbs, dict) else None
    head = [
        _str(data.get("summary")) or "",
        _severity_pairs(data.get("severity")),
        list(_strings(data.get("related"))),
        rating if isinstance(rating, str) else None,
    ]
    return rows, _encode(head)


class IndexedAdvisory:
    """One advisory as the match index holds it for one package. ``entries`` are the compact
    entries naming the package; the head (summary, severity, related, the database's rating)
    is decoded on first use, which only a finding's advisories reach."""

    __slots__ = ("_head", "_head_json", "aliases", "entries", "id")

    def __init__(self, ident: str, aliases: list[str], entries: list[Any], head: str) -> None:
        self.id = ident
        self.aliases: tuple[str, ...] = tuple(aliases)
        self.entries = entries
        self._head_json = head
        self._head: list[Any] | None = None

    def __repr__(self) -> str:
        return f"<IndexedAdvisory {self.id}>"

    def _decoded(self) -> list[Any]:
        if self._head is None:
            self._head = _decode(self._head_json)
        return self._head

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))

    @property
    def summary(self) -> str:
        return str(self._decoded()[0])

    @property
    def severity_pairs(self) -> list[tuple[str, str]]:
        return [(t, s) for t, s in self._decoded()[1]]

    @property
    def related(self) -> tuple[str, ...]:
        return tuple(self._decoded()[2])

    @property
    def database_specific(self) -> Mapping[str, Any] | None:
        rating = self._decoded()[3]
        return None if rating is None else {"severity": rating}


class IndexedPackage(NamedTuple):
    """One package's rows of the match index as stored: the advisory ids (sorted), their compact
    entries as one JSON array, and their heads. Only strings, which is what a store caches:
    the garbage collector never walks them, and a scan decodes one package at a time."""

    ids: tuple[str, ...]
    entries: str
    heads: tuple[str, ...]

    def decoded(self) -> list[list[Any]]:
        """Each advisory's ``[aliases, entries]``, in ``ids`` order."""
        return _decode(self.entries) if self.ids else []

    def advisories(self) -> list[IndexedAdvisory]:
        return [
            IndexedAdvisory(ident, compact[0], compact[1], head)
            for ident, compact, head in zip(self.ids, self.decoded(), self.heads, strict=True)
        ]


class KeyCache:
    """Version keys worked out during one matching run, per ecosystem: the same versions recur
    across a package's advisories and the component versions, and a dict lookup is far cheaper
    than even a cached parse. Dropped with the run."""

    __slots__ = ("_scopes",)

    def __init__(self) -> None:
        self._scopes: dict[str, tuple[Any, _Known] | None] = {}

    def scope(self, ecosystem_name: str) -> tuple[Any, _Known] | None:
        """The ordering of an entry's ecosystem and its known keys; None without an ordering."""
        try:
            return self._scopes[ecosystem_name]
        except KeyError:
            pass
        order = _ecosystem_order(ecosystem_name) if ecosystem_name else None
        if order is None:
            found = None
        else:  # "Debian:11" and "Debian:12" share one ordering, so one set of keys
            shared = next((s for s in self._scopes.values() if s and s[0] is order), None)
            found = shared or (order, {})
        self._scopes[ecosystem_name] = found
        return found


def evaluate_indexed(entry: Sequence[Any], version: str, keys: KeyCache) -> Evaluation | None:
    """``Affected.evaluate(version)`` for a compact entry, or None where only the full record
    can answer (see the section comment)."""
    versions = entry[1]
    if versions and version in versions:
        return _LISTED
    ranges = entry[2]
    scope = keys.scope(entry[0])
    if ranges is None or scope is None:
        return None
    order, known = scope
    parsed = known.get(version) or _cached_key(order, version, known)
    key = parsed[0]
    if parsed[1] is not None:
        return None
    try:
        if versions:
            for listed in versions:  # an equal key is needed for a hit: look for one first
                parsed = known.get(listed) or _cached_key(order, listed, known)
                if parsed[1] is None and parsed[0] == key:
                    sorted_keys = _sorted_keys(order, versions, known)
                    at = bisect.bisect_left(sorted_keys, key)
                    if at < len(sorted_keys) and sorted_keys[at] == key:
                        return _LISTED
                    break
        needs_graph = False
        for rtype, pairs in ranges:
            if rtype == "GIT":  # the enumerated list stands in for the commit graph
                needs_graph = needs_graph or not versions
                continue
            if len(pairs) == 2 and pairs[0][0] == _INTRODUCED and pairs[1][0] in _CLOSING:
                hit = _includes_window(pairs[0][1], pairs[1][0], pairs[1][1], order, known, key)
            else:
                compiled = _compile(pairs, order, known)
                hit = None if isinstance(compiled, str) else _includes(*compiled, key)
            if hit is None:
                return None
            if hit:
                return _IN_RANGE[rtype]
    except TypeError:  # keys that do not compare: the full record says so in its reason
        return None
    return _NEEDS_GRAPH if needs_graph else _NOT_AFFECTED


def _includes_window(
    start: str, end_code: int, end: str, order: Any, known: _Known, key: Any
) -> bool | None:
    """``_compile`` + ``_includes`` for the usual range, ``introduced`` then one ``fixed`` or
    ``last_affected``, without building the walk: the same comparisons in the same order (so
    the same TypeError where keys do not compare), None where a version does not parse."""
    parsed = known.get(end) or _cached_key(order, end, known)
    if parsed[1] is not None:
        return None
    at_end = parsed[0]
    if start == "0":
        at_start = None  # first in the walk whatever the other event
        backwards = False
    else:
        parsed = known.get(start) or _cached_key(order, start, known)
        if parsed[1] is not None:
            return None
        at_start = parsed[0]
        backwards = (1, at_end) < (1, at_start)  # the sort's one comparison
    opened = at_start is None or not key < at_start
    closed = not key < at_end if end_code == _FIXED else at_end < key  # else last_affected
    # walked in version order: the later event has the last word (a close before the open
    # leaves the open standing)
    return opened if backwards else opened and not closed


def indexed_fixed(entry: Sequence[Any], keys: KeyCache) -> tuple[str, ...]:
    """``Affected.fixed_versions()`` for a compact entry that ``evaluate_indexed`` answered."""
    scope = keys.scope(entry[0])
    fixed = [
        version
        for rtype, pairs in entry[2]
        if rtype != "GIT"
        for code, version in pairs
        if code == _FIXED
    ]
    return _ordered_fixed(*scope, fixed) if scope else _ordered_fixed(None, {}, fixed)
