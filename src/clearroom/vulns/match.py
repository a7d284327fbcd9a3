"""Components to findings: each purl is looked up by (ecosystem, name) and its version run
through the OSV evaluation of every advisory naming the package.

    >>> report = match_report(sbom.components, store)                 # doctest: +SKIP
    >>> [(f.component_ref, f.advisory_id, f.status) for f in report.findings]  # doctest: +SKIP

Rules:

- Only purls are matched (``confidence="exact"``). A component without a purl, with a
  malformed purl, of an unsupported ecosystem or without a version is *not matchable*: counted
  with its reason, never guessed from its name.
- Advisories that are aliases of each other (CVE / GHSA / PYSEC ...) are one finding: one per
  (component, alias group). The group is ``affected`` if any member says so. Otherwise it is
  ``unknown`` (with the reasons) if a member could not decide - unless another member of the
  same group, evaluated without doubt, says "not affected": duplicates describe the same flaw,
  so a decided "no" outranks an undecidable one.
- Withdrawn advisories are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from clearroom.vulns.osv import Advisory, Affected, Evaluation
from clearroom.vulns.purl import (
    InvalidPurl,
    PurlTarget,
    UnsupportedPurl,
    base_ecosystem,
    from_purl,
)
from clearroom.vulns.severity import RATINGS, Score, best_score

__all__ = [
    "AdvisoryLookup",
    "ComponentLike",
    "Finding",
    "MatchReport",
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
    advisory: Advisory
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


def match_report(components: Iterable[ComponentLike], store: AdvisoryLookup) -> MatchReport:
    """Findings for every matchable component, and the reasons for the rest."""
    findings: list[Finding] = []
    skipped: list[NotMatchable] = []
    evaluated: dict[tuple[str, str, str], list[Finding]] = {}
    count = matched = 0
    for component in components:
        count += 1
        target = _target(component)
        if isinstance(target, str):
            skipped.append(
                NotMatchable(
                    component.ref, component.name, component.version, component.purl, target
                )
            )
            continue
        matched += 1
        version = target.version or ""
        key = (target.ecosystem, target.name, version)
        templates = evaluated.get(key)
        if templates is None:
            verdicts = [
                verdict
                for advisory in store.lookup(target.ecosystem, target.name)
                if not advisory.is_withdrawn
                and (verdict := _evaluate(advisory, target, version)) is not None
            ]
            templates = evaluated[key] = [
                found
                for group in _alias_groups(verdicts)
                if (found := _finding(target, version, group)) is not None
            ]
        findings.extend(
            replace(t, component_ref=component.ref, component_name=component.name, purl=target.purl)
            for t in templates
        )
    return MatchReport(
        findings=tuple(findings),
        not_matchable=tuple(skipped),
        components=count,
        matched=matched,
        snapshot=store.snapshot(),
    )


def match(components: Iterable[ComponentLike], store: AdvisoryLookup) -> list[Finding]:
    """Only the findings; :func:`match_report` also says what could not be matched."""
    return list(match_report(components, store).findings)
