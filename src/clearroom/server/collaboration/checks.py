"""The automated checks on an evaluation: what the centre knows about the release, as facts the
evaluator starts from (and may disagree with).

They are attached when the vendor accepts the evaluation and, until the final report, run
again whenever a fact they read changes - an SBOM read, the release's vulnerabilities
evaluated, a fact about it recorded or logged
(:data:`clearroom.server.catalog.signals.release_facts_changed`) - or when the evaluator asks.
Each result keeps when it ran. Work the centre has not done yet (an SBOM not read yet,
vulnerabilities not evaluated yet) is said so, never reported as a failure or as "nothing found"."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from clearroom.attest.predicates import RELEASE_MANIFEST
from clearroom.server.catalog.models import Document, Release
from clearroom.server.catalog.signals import release_facts_changed
from clearroom.server.collaboration.models import CheckResult, Evaluation
from clearroom.server.vulnerabilities.models import Evaluation as VulnerabilityEvaluation
from clearroom.server.vulnerabilities.services import open_counts

_log = logging.getLogger(__name__)
Outcome = CheckResult.Outcome
Result = tuple[str, str, str, dict[str, object]]
"""(outcome, title, detail, data)"""
RUNS_WHILE = Evaluation.State.ACCEPTED
"""Checks run from the vendor's acceptance to the final report: the evaluator's access (and so
what it may learn of the release's confidential SBOMs) ends with the report, and the checks of
a reported evaluation stay as they were when it was submitted."""


def _score(quality: dict[str, Any], standard: str) -> float | None:
    score = (quality.get(standard) or {}).get("score")
    return score if isinstance(score, int | float) else None


def _scores_text(name: str, components: int, scores: dict[str, float | None]) -> str:
    shown = [
        f"{label} {scores[key]:.0f}/100"
        for key, label in (("ntia", "NTIA"), ("bsi", "BSI TR-03183-2"))
        if scores.get(key) is not None
    ]
    return f"{name}: {components} components" + (f", {', '.join(shown)}" if shown else "")


def _sbom(release: Release) -> Result:
    uploaded = release.documents.filter(kind=Document.Kind.SBOM).count()
    parsed = list(release.sboms.select_related("document").order_by("document__name"))
    unread = uploaded - len(parsed)
    readable = [s for s in parsed if not s.error]
    broken = [s for s in parsed if s.error]
    if not uploaded:
        return Outcome.FAIL, "SBOM", "The release has no SBOM.", {"sboms": 0}
    scores = {s.document.name: {k: _score(s.quality, k) for k in ("ntia", "bsi")} for s in readable}
    components = sum(s.components for s in readable)
    parts = [_scores_text(s.document.name, s.components, scores[s.document.name]) for s in readable]
    parts += [f"{s.document.name} could not be read: {s.error}" for s in broken]
    if unread:
        parts.append(f"{unread} SBOM(s) not read yet; this check runs again when they are")
    data: dict[str, object] = {
        "sboms": uploaded,
        "components": components,
        "scores": scores,
        "unread": unread,
        "unreadable": len(broken),
    }
    if readable:
        outcome = Outcome.PASS
    elif unread:
        outcome = Outcome.INFO
    else:
        outcome = Outcome.FAIL
    return outcome, "SBOM", "; ".join(parts) + ".", data


def _vulnerabilities(release: Release) -> Result:
    title = "Known vulnerabilities (after VEX)"
    last = VulnerabilityEvaluation.objects.filter(release=release).order_by("-at", "-pk").first()
    if last is None:
        waiting = "no SBOM has been read yet" if not release.sboms.exists() else "not yet"
        detail = f"Not evaluated yet ({waiting}); this check runs again when it is."
        return Outcome.INFO, title, detail, {"evaluated": False}
    counts = open_counts(release)
    total = sum(counts.values())
    severe = counts.get("critical", 0) + counts.get("high", 0)
    listed = ", ".join(f"{n} {rating}" for rating, n in counts.items() if n)
    detail = f"{total} open: {listed}" if total else "None open"
    detail += f" (evaluated {last.at:%Y-%m-%d %H:%M} UTC against advisories {last.snapshot})."
    outcome = Outcome.FAIL if severe else Outcome.PASS
    return outcome, title, detail, {"evaluated": True, "open": counts, "total": total}


def _signature(release: Release) -> Result:
    signed = release.attestations.filter(predicate_type=RELEASE_MANIFEST).exists()
    if signed:
        return Outcome.PASS, "Signed release manifest", "The vendor signed the manifest.", {}
    return Outcome.FAIL, "Signed release manifest", "No manifest signed by the vendor.", {}


def _logged(release: Release) -> Result:
    facts = release.log_entries.all()
    pending = facts.filter(index__isnull=True).count()
    total = facts.count()
    outcome = Outcome.PASS if total and not pending else Outcome.INFO
    detail = f"{total - pending} of {total} facts about the release are in the transparency log"
    if pending:
        detail += f"; {pending} waiting for their index (this check runs again when logged)"
    return outcome, "Transparency log", detail + ".", {"facts": total, "pending": pending}


CHECKS: dict[str, Callable[[Release], Result]] = {
    "sbom": _sbom,
    "vulnerabilities": _vulnerabilities,
    "signed-manifest": _signature,
    "transparency-log": _logged,
}


def attach(evaluation: Evaluation) -> list[CheckResult]:
    """Run every check on the evaluation's release and keep the results (again: replaced)."""
    results = []
    now = timezone.now()
    for check_id, run in CHECKS.items():
        outcome, title, detail, data = run(evaluation.release)
        result, _ = CheckResult.objects.update_or_create(
            evaluation=evaluation,
            check_id=check_id,
            defaults={
                "title": title,
                "outcome": outcome,
                "detail": detail,
                "data": data,
                "checked_at": now,
            },
        )
        results.append(result)
    return results


def refresh(releases: list[int]) -> int:
    """Run the checks again on every accepted evaluation of ``releases``; returns how many
    evaluations. In a savepoint: a failure here undoes nothing of the caller's."""
    with transaction.atomic():
        found = list(
            Evaluation.objects.filter(release__in=releases, state=RUNS_WHILE)
            .select_related("release")
            .order_by("pk")
        )
        for evaluation in found:
            attach(evaluation)
    return len(found)


@receiver(release_facts_changed, dispatch_uid="collaboration.checks.refresh")
def _on_release_facts_changed(sender: object, *, releases: list[int], **_: Any) -> None:
    refresh(releases)
