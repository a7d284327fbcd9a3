"""An SBOM against the advisory store, with the vendor's VEX applied: what is in it, what of
it is vulnerable, and what the vendor says about each finding.

One function for the CLI and the service, so a finding on the portal and a finding on a
laptop are the same finding: :func:`scan` matches every component (:mod:`.match`), then looks
for VEX statements about the finding's advisory (by id or alias) and its component (by purl),
and the newest statement sets the status; older, conflicting ones are kept to be shown.
Each result names the advisory snapshot it used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clearroom.sbom.model import Sbom
from clearroom.vulns.match import AdvisoryLookup, Finding, MatchReport, MatchRun, NotMatchable
from clearroom.vulns.vex import VexDocument, VexError, VexStatement
from clearroom.vulns.vex.resolve import applies_to

SEVERITY_ORDER = ("critical", "high", "medium", "low", "none", "unknown")


@dataclass(frozen=True)
class ScanFinding:
    finding: Finding
    vex: VexStatement | None = None
    """The newest VEX statement about this finding, which decides its status."""
    conflicts: tuple[VexStatement, ...] = ()
    """Older statements about it that said something else."""
    paths: tuple[tuple[str, ...], ...] = ()
    """Dependency paths (component refs) through which the SBOM pulls the component in."""

    @property
    def status(self) -> str:
        return self.vex.status if self.vex is not None else self.finding.status

    @property
    def rating(self) -> str:
        score = self.finding.severity
        return (score.rating or "unknown").lower() if score is not None else "unknown"

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        score = f.severity
        return {
            "component": {"ref": f.component_ref, "name": f.component_name},
            "version": f.component_version,
            "purl": f.purl,
            "advisory": f.advisory_id,
            "aliases": list(f.aliases),
            "summary": f.summary,
            "severity": None
            if score is None
            else {"score": score.score, "rating": score.rating, "vector": score.vector},
            "fixed_versions": list(f.fixed_versions),
            "match": {"status": f.status, "reason": f.reason, "confidence": f.confidence},
            "status": self.status,
            "vex": None if self.vex is None else _statement(self.vex),
            "vex_conflicts": [_statement(s) for s in self.conflicts],
            "paths": [list(p) for p in self.paths],
        }


def _statement(s: VexStatement) -> dict[str, Any]:
    return {
        "status": s.status,
        "justification": s.justification,
        "impact_statement": s.impact_statement,
        "action_statement": s.action_statement,
        "timestamp": s.timestamp.isoformat() if s.timestamp else None,
    }


@dataclass(frozen=True)
class ScanResult:
    sbom: Sbom
    report: MatchReport
    findings: tuple[ScanFinding, ...]

    @property
    def snapshot(self) -> str:
        return self.report.snapshot

    def counts(self) -> dict[str, int]:
        """Open findings (affected or unknown, after VEX) per severity rating."""
        return open_counts(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_head(self.sbom, self.snapshot),
            "matched": self.report.matched,
            "not_matchable": _not_matchable(self.report.not_matchable),
            "open_by_severity": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }


def _head(sbom: Sbom, snapshot: str) -> dict[str, Any]:
    return {
        "sbom": {
            "format": sbom.format,
            "spec_version": sbom.spec_version,
            "serial": sbom.serial,
            "components": len(sbom.components),
        },
        "advisory_snapshot": snapshot,
    }


def _not_matchable(components: Iterable[NotMatchable]) -> list[dict[str, Any]]:
    return [
        {"ref": n.component_ref, "name": n.name, "purl": n.purl, "reason": n.reason}
        for n in components
    ]


OPEN_STATUSES = ("affected", "unknown", "under_investigation")


def open_counts(findings: Iterable[ScanFinding]) -> dict[str, int]:
    """Open findings (affected or unknown, after VEX) per severity rating."""
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for f in findings:
        if f.status in OPEN_STATUSES:
            counts[f.rating if f.rating in counts else "unknown"] += 1
    return counts


class ScanRun:
    """A scan whose findings are produced one at a time, in component order, so a writer can
    emit each as it comes and memory stays bounded however many there are. The totals
    (``counts``, ``total``, the match summary) are final once :meth:`findings` is exhausted.

    :func:`scan` collects the same findings, sorted worst first."""

    def __init__(self, sbom: Sbom, store: AdvisoryLookup, vex: Iterable[VexDocument] = ()) -> None:
        self.sbom = sbom
        self.match = MatchRun(sbom.components, store)
        self.statements = [s for document in vex for s in document.statements]
        self.counts = dict.fromkeys(SEVERITY_ORDER, 0)
        self.total = 0

    @property
    def snapshot(self) -> str:
        return self.match.snapshot

    def findings(self) -> Iterator[ScanFinding]:
        for found in self.match.findings():
            finding = _with_vex(self.sbom, found, self.statements)
            self.total += 1
            if finding.status in OPEN_STATUSES:
                self.counts[_rank(finding)] += 1
            yield finding

    def summary(self) -> dict[str, Any]:
        """Everything of :meth:`ScanResult.to_dict` but the findings (final after them)."""
        return {
            "matched": self.match.matched,
            "not_matchable": _not_matchable(self.match.not_matchable),
            "open_by_severity": dict(self.counts),
        }

    def head(self) -> dict[str, Any]:
        return _head(self.sbom, self.snapshot)


def scan(sbom: Sbom, store: AdvisoryLookup, vex: Iterable[VexDocument] = ()) -> ScanResult:
    run = ScanRun(sbom, store, vex)
    findings = sorted(run.findings(), key=_order)
    return ScanResult(sbom, run.match.report(f.finding for f in findings), tuple(findings))


def _order(f: ScanFinding) -> tuple[int, str]:
    """Worst first, then by component name."""
    return SEVERITY_ORDER.index(_rank(f)), f.finding.component_name


def _rank(f: ScanFinding) -> str:
    return f.rating if f.rating in SEVERITY_ORDER else "unknown"


def _age(numbered: tuple[int, VexStatement]) -> tuple[bool, datetime, int]:
    """Newest last: by timestamp (a statement without one is the oldest), then order given."""
    order, statement = numbered
    stamp = statement.timestamp
    return stamp is not None, stamp or datetime.min.replace(tzinfo=UTC), order


def vex_for(
    finding: Finding, statements: Sequence[VexStatement]
) -> tuple[VexStatement | None, tuple[VexStatement, ...]]:
    """The newest VEX statement about ``finding`` (its advisory by id or alias, its component
    by purl) and the older ones that said something else."""
    names = {finding.advisory_id, *finding.aliases}
    about = []
    for statement in statements:
        if not names & {statement.vulnerability, *statement.aliases}:
            continue
        try:
            if applies_to(statement, finding.purl, finding.component_version):
                about.append(statement)
        except VexError:
            continue  # a statement naming a malformed purl speaks about nothing
    if not about:
        return None, ()
    ordered = sorted(enumerate(about), key=_age)
    newest = ordered[-1][1]
    return newest, tuple(s for _, s in ordered[:-1] if s.status != newest.status)


def _with_vex(sbom: Sbom, finding: Finding, statements: Sequence[VexStatement]) -> ScanFinding:
    newest, conflicts = vex_for(finding, statements)
    paths = tuple(tuple(p) for p in sbom.paths_to(finding.component_ref, limit=5))
    return ScanFinding(finding, newest, conflicts, paths)
