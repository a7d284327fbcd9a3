"""Components to findings: each purl is looked up by (ecosystem, name) and its version run
through the OSV evaluation of every advisory naming the package.

    >>> report = match_report(sbom.components, store)                 # doctest: +SKIP
    >>> [(f.component_ref, f.advisory_id, f.status) for f in report.findings]  # doctest: +SKIP

Rules:

- Only purls are matched (``confidence="exact"``). A component without a purl, with a
  malformed purl, of an unsupported ecosystem or without a version is *not matchable*: counted
  with its reason, never guessed from its name. So is a component whose version the ecosystem
  cannot read, once (not one "unknown" per advisory of its package); see :class:`MatchRun`.
- Advisories that are aliases of each other (CVE / GHSA / PYSEC ...) are one finding: one per
  (component, alias group). The group is ``affected`` if any member says so. Otherwise it is
  ``unknown`` (with the reasons) if a member could not decide - unless another member of the
  same group, evaluated without doubt, says "not affected": duplicates describe the same flaw,
  so a decided "no" outranks an undecidable one.
- Withdrawn advisories are ignored.

Speed: a store that keeps a match index (``AdvisoryStore.indexed``) hands over each package's
advisories in compact form; they are evaluated by ``osv.evaluate_indexed`` (the same algorithm
and helpers as ``Affected.evaluate``) and only what a finding shows is decoded. Where the compact
form cannot answer exactly (an invalid range, an unknown ordering, a version that does not parse
or compare) the full record is read and evaluated as before, so findings do not depend on which
path produced them. Any other ``AdvisoryLookup`` is matched through ``lookup``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

from clearroom.vulns.osv import (
    Advisory,
    Affected,
    Evaluation,
    IndexedAdvisory,
    IndexedPackage,
    KeyCache,
    evaluate_indexed,
    indexed_fixed,
)
from clearroom.vulns.purl import (
    InvalidPurl,
    PurlTarget,
    UnsupportedPurl,
    base_ecosystem,
    from_purl,
)
from clearroom.vulns.severity import RATINGS, Score, best_score
from clearroom.vulns.versions import UnknownEcosystem, UnparsableVersion, ecosystem

__all__ = [
    "AdvisoryLookup",
    "ComponentLike",
    "Finding",
    "MatchReport",
    "MatchRun",
    "NotMatchable",
    "match",
    "match_report",
]

Status = Literal["affected", "unknown"]


class ComponentLike(Protocol):
    """What the matcher reads from a component (``clearroom.sbom.model.Component`` fits)."""

    @property
    def ref(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def purl(self) -> str | None: ...


class AdvisoryLookup(Protocol):
    """What the matcher needs from a store (``AdvisoryStore`` fits)."""

    def lookup(self, ecosystem: str, name: str) -> list[Advisory]: ...
    def snapshot(self) -> str: ...


@runtime_checkable
class IndexedLookup(Protocol):
    """A store with a match index (``AdvisoryStore`` fits); see the module docstring."""

    def indexed(
        self, packages: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], IndexedPackage] | None: ...
    def get(self, ident: str) -> Advisory | None: ...


class _Head(Protocol):
    """What grouping and a finding read of an advisory (``Advisory`` and ``IndexedAdvisory``)."""

    @property
    def id(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...
    @property
    def ids(self) -> frozenset[str]: ...
    @property
    def related(self) -> tuple[str, ...]: ...
    @property
    def summary(self) -> str: ...
    @property
    def database_specific(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class Finding:
    component_ref: str
    component_name: str
    component_version: str
    purl: str
    ecosystem: str
    package: str
    advisory_id: str
    aliases: tuple[str, ...]
    """Every other id of the alias group, sorted (the advisories merged into this finding)."""
    summary: str
    severity: Score | None
    fixed_versions: tuple[str, ...]
    status: Status
    reason: str
    confidence: Literal["exact"] = "exact"
    related: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class NotMatchable:
    component_ref: str
    name: str
    version: str | None
    purl: str | None
    reason: str


@dataclass(frozen=True)
class MatchReport:
    findings: tuple[Finding, ...]
    not_matchable: tuple[NotMatchable, ...]
    components: int
    matched: int
    """Components that were looked up (had a usable purl and version)."""
    snapshot: str
    """The store's snapshot digest: the exact advisory data behind these findings."""

    @property
    def not_matchable_reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.not_matchable:
            kind = item.reason.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts


def _applies(affected: Affected, target: PurlTarget) -> bool:
    """Does this ``affected[]`` entry name the target package (and its release, if any)?"""
    eco, name = affected.index_key
    if name != target.name or eco.lower() != base_ecosystem(target.ecosystem).lower():
        return False
    wanted = target.ecosystem
    if ":" in wanted and ":" in affected.package.ecosystem:
        return affected.package.ecosystem.lower() == wanted.lower()
    return True


@dataclass(slots=True)
class _Verdict:
    advisory: _Head
    result: Evaluation
    fixed: tuple[str, ...]
    severity: Score | None


def _evaluate(advisory: Advisory, target: PurlTarget, version: str) -> _Verdict | None:
    entries = [a for a in advisory.affected if _applies(a, target)]
    if not entries:
        return None
    results = [a.evaluate(version) for a in entries]
    if any(r.affected for r in results):
        result = next(r for r in results if r.affected)
    elif any(r.affected is None for r in results):
        result = Evaluation(None, "; ".join(dict.fromkeys(r.reason for r in results if r.reason)))
    else:  # decided "no": a group member that may suppress undecidable duplicates, no more
        return _Verdict(advisory, Evaluation(False), (), None)
    fixed = tuple(dict.fromkeys(f for a in entries for f in a.fixed_versions()))
    severities = [(s.type, s.score) for s in advisory.severity]
    severities += [(s.type, s.score) for a in entries for s in a.severity]
    return _Verdict(advisory, result, fixed, best_score(severities))


_NO: Evaluation = Evaluation(False)
_FULL_RECORD = object()
"""``_indexed_answer``'s answer when only the full record can say."""
_Answer = tuple[Evaluation, list[Any]]


def _indexed_answer(
    entries: list[Any], target: PurlTarget, version: str, keys: KeyCache
) -> _Answer | object | None:
    """The first half of ``_evaluate`` on the match index's compact entries (same rules, same
    order): the evaluation and the entries that apply, None when none does, or
    ``_FULL_RECORD``."""
    # the store gives only entries naming the package (base ecosystem compared ignoring case);
    # what is left of ``_applies`` is the release suffix
    wanted = target.ecosystem
    if ":" in wanted:
        wanted = wanted.lower()
        entries = [e for e in entries if ":" not in e[0] or e[0].lower() == wanted]
    if not entries:
        return None
    if len(entries) == 1:  # the usual case, and what the general one below comes to for it
        single = evaluate_indexed(entries[0], version, keys)
        return _FULL_RECORD if single is None else (single, entries)
    results: list[Evaluation] = []
    for entry in entries:
        answer = evaluate_indexed(entry, version, keys)
        if answer is None:
            return _FULL_RECORD
        results.append(answer)
    if any(r.affected for r in results):
        result = next(r for r in results if r.affected)
    elif any(r.affected is None for r in results):
        result = Evaluation(None, "; ".join(dict.fromkeys(r.reason for r in results if r.reason)))
    else:
        result = _NO
    return result, entries


def _indexed_verdict(advisory: IndexedAdvisory, answer: _Answer, keys: KeyCache) -> _Verdict:
    """The second half of ``_evaluate``: fixed versions and severity where it is not a no."""
    result, entries = answer
    if result.affected is False:
        return _Verdict(advisory, _NO, (), None)
    fixed = tuple(dict.fromkeys(f for e in entries for f in indexed_fixed(e, keys)))
    severities = advisory.severity_pairs
    severities += [(t, s) for e in entries for t, s in e[3]]
    return _Verdict(advisory, result, fixed, best_score(severities))


def _indexed_verdicts(
    store: IndexedLookup,
    package: IndexedPackage,
    target: PurlTarget,
    version: str,
    keys: KeyCache,
) -> list[_Verdict]:
    """The verdicts of a package's advisories, [] when all are a decided "no" (there is
    nothing to find then, and no objects are made for them)."""
    rows = package.decoded()
    answers = [_indexed_answer(row[1], target, version, keys) for row in rows]
    if all(a is None or (a is not _FULL_RECORD and a[0].affected is False) for a in answers):  # type: ignore[index]
        return []
    verdicts: list[_Verdict] = []
    for ident, row, head, answer in zip(package.ids, rows, package.heads, answers, strict=True):
        if answer is None:
            continue
        if answer is _FULL_RECORD:
            full = store.get(ident)
            verdict = None if full is None else _evaluate(full, target, version)
            if verdict is not None:
                verdicts.append(verdict)
        else:
            advisory = IndexedAdvisory(ident, row[0], row[1], head)
            verdicts.append(_indexed_verdict(advisory, answer, keys))  # type: ignore[arg-type]
    return verdicts


def _alias_groups(verdicts: Sequence[_Verdict]) -> list[list[_Verdict]]:
    """Union-find over the ids and aliases of one package's advisories."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for verdict in verdicts:
        root = find(verdict.advisory.id)
        for alias in verdict.advisory.aliases:
            other = find(alias)
            if other != root:
                parent[other] = root
    groups: dict[str, list[_Verdict]] = {}
    for verdict in verdicts:
        groups.setdefault(find(verdict.advisory.id), []).append(verdict)
    return list(groups.values())


def _database_rating(group: Sequence[_Verdict]) -> Score | None:
    """GitHub's ``database_specific.severity`` ("HIGH"...) when no record carries a vector."""
    for verdict in group:
        dbs = verdict.advisory.database_specific or {}
        rating = dbs.get("severity")
        if isinstance(rating, str) and rating.upper() in RATINGS:
            return Score("", "", None, rating.upper(), "rating from database_specific, no vector")
    return None


def _finding(target: PurlTarget, version: str, group: list[_Verdict]) -> Finding | None:
    """The finding for one alias group, without the component's ref and name (filled later)."""
    status: Status
    positive = [v for v in group if v.result.affected]
    if positive:
        chosen, status, reason = positive, "affected", positive[0].result.reason
    elif any(v.result.affected is False for v in group):
        return None
    else:
        chosen, status = group, "unknown"
        reason = "; ".join(dict.fromkeys(v.result.reason for v in group if v.result.reason))
    # the representative: a record with a scored severity first, then the smallest id
    lead = min(
        chosen, key=lambda v: (v.severity is None or v.severity.score is None, v.advisory.id)
    )
    severity = lead.severity
    if severity is None or severity.score is None:
        others = [v.severity for v in group if v.severity is not None]
        severity = next((s for s in others if s.score is not None), None) or (
            _database_rating(group) or severity
        )
    ids = {i for v in group for i in v.advisory.ids}
    ids.discard(lead.advisory.id)
    related = {r for v in group for r in v.advisory.related} - ids - {lead.advisory.id}
    summary = lead.advisory.summary or next(
        (v.advisory.summary for v in group if v.advisory.summary), ""
    )
    return Finding(
        component_ref="",
        component_name="",
        component_version=version,
        purl=target.purl,
        ecosystem=target.ecosystem,
        package=target.name,
        advisory_id=lead.advisory.id,
        aliases=tuple(sorted(ids)),
        summary=summary,
        severity=severity,
        fixed_versions=tuple(dict.fromkeys(f for v in group for f in v.fixed)),
        status=status,
        reason=reason,
        related=tuple(sorted(related)),
    )


def _target(component: ComponentLike) -> PurlTarget | str:
    """The lookup target, or why the component cannot be matched."""
    if not component.purl:
        return "no purl: only purls are matched (no name guessing)"
    try:
        target = from_purl(component.purl)
    except InvalidPurl as exc:
        return f"invalid purl: {exc}"
    except UnsupportedPurl as exc:
        return f"unsupported ecosystem: {exc}"
    if not target.version:
        return "no version: the purl has none"
    return target


def _version_problem(target: PurlTarget, version: str) -> str | None:
    """Why the ecosystem's ordering cannot read ``version``, or None when it can."""
    try:
        ecosystem(target.ecosystem).key(version)
    except UnknownEcosystem:
        return None  # the advisories' own evaluation says so, per advisory
    except UnparsableVersion as exc:
        return f"{version[:100]!r} is not a {base_ecosystem(target.ecosystem)} version ({exc})"
    return None


@dataclass(slots=True)
class _Evaluated:
    """One (ecosystem, package, version)'s findings without the component, and, when the
    version could not be read, why (its undecidable findings are then dropped)."""

    templates: list[Finding]
    problem: str | None = None


class MatchRun:
    """A matching run that yields findings one component at a time, so a caller that writes
    them as they come holds no more than one component's findings (memory does not grow with
    their number). ``components``, ``matched`` and ``not_matchable`` are final once
    :meth:`findings` is exhausted; ``snapshot`` is known from the start.

    A component whose version the ecosystem cannot read is *not matchable*, once, with the
    reason: its advisories cannot be evaluated, and one "unknown" finding per advisory of the
    package (116 for django) would only repeat that. Findings that need no ordering (the
    version listed verbatim in an advisory's ``versions``) are still reported. A caller that
    has nowhere to show a not-matchable component (the service's findings table) passes
    ``collapse_unparsable=False`` and keeps the per-advisory "unknown" findings: fail closed."""

    def __init__(
        self,
        components: Iterable[ComponentLike],
        store: AdvisoryLookup,
        *,
        collapse_unparsable: bool = True,
    ) -> None:
        self.store = store
        self.collapse_unparsable = collapse_unparsable
        self.snapshot = store.snapshot()
        self.components = 0
        self.matched = 0
        self.not_matchable: list[NotMatchable] = []
        self._targets: list[tuple[ComponentLike, PurlTarget]] = []
        for component in components:
            self.components += 1
            target = _target(component)
            if isinstance(target, str):
                self._skip(component, target)
            else:
                self._targets.append((component, target))

    def _skip(self, component: ComponentLike, reason: str) -> None:
        self.not_matchable.append(
            NotMatchable(component.ref, component.name, component.version, component.purl, reason)
        )

    def findings(self) -> Iterator[Finding]:
        store = self.store
        indexed_store = store if isinstance(store, IndexedLookup) else None
        index = (
            indexed_store.indexed([(t.ecosystem, t.name) for _, t in self._targets])
            if indexed_store
            else None
        )
        keys = KeyCache()
        evaluated: dict[tuple[str, str, str], _Evaluated] = {}
        for component, target in self._targets:
            version = target.version or ""
            key = (target.ecosystem, target.name, version)
            known = evaluated.get(key)
            if known is None:
                if indexed_store is not None and index is not None:
                    verdicts = _indexed_verdicts(
                        indexed_store, index[(target.ecosystem, target.name)], target, version, keys
                    )
                else:
                    verdicts = [
                        verdict
                        for advisory in store.lookup(target.ecosystem, target.name)
                        if not advisory.is_withdrawn
                        and (verdict := _evaluate(advisory, target, version)) is not None
                    ]
                known = evaluated[key] = _evaluated(
                    target, version, verdicts, self.collapse_unparsable
                )
            if known.problem is not None:
                self._skip(component, known.problem)
            else:
                self.matched += 1
            for t in known.templates:
                yield replace(
                    t, component_ref=component.ref, component_name=component.name, purl=target.purl
                )

    def report(self, findings: Iterable[Finding] = ()) -> MatchReport:
        return MatchReport(
            findings=tuple(findings),
            not_matchable=tuple(self.not_matchable),
            components=self.components,
            matched=self.matched,
            snapshot=self.snapshot,
        )


def _evaluated(
    target: PurlTarget, version: str, verdicts: list[_Verdict], collapse: bool
) -> _Evaluated:
    # a group of decided "no"s gives no finding: most packages need no grouping
    if not any(v.result.affected is not False for v in verdicts):
        return _Evaluated([])
    templates = [
        found
        for group in _alias_groups(verdicts)
        if (found := _finding(target, version, group)) is not None
    ]
    undecided = [t for t in templates if t.status == "unknown"]
    problem = _version_problem(target, version) if undecided and collapse else None
    if problem is None:
        return _Evaluated(templates)
    kept = [t for t in templates if t.status != "unknown"]
    return _Evaluated(
        kept,
        f"unparsable version: {problem}; {len(undecided)} advisories of {target.name}"
        " could not be evaluated",
    )


def match_report(
    components: Iterable[ComponentLike],
    store: AdvisoryLookup,
    *,
    collapse_unparsable: bool = True,
) -> MatchReport:
    """Findings for every matchable component, and the reasons for the rest (all in memory:
    :class:`MatchRun` streams them)."""
    run = MatchRun(components, store, collapse_unparsable=collapse_unparsable)
    findings = tuple(run.findings())
    return run.report(findings)


def match(components: Iterable[ComponentLike], store: AdvisoryLookup) -> list[Finding]:
    """Only the findings; :func:`match_report` also says what could not be matched."""
    return list(match_report(components, store).findings)
