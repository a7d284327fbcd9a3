"""The automated checks attached to an evaluation when the vendor accepts it: what the centre
already knows about the release, as facts the evaluator starts from (and may disagree with)."""

from __future__ import annotations

from collections.abc import Callable

from clearroom.attest.predicates import RELEASE_MANIFEST
from clearroom.server.catalog.models import Release
from clearroom.server.collaboration.models import CheckResult, Evaluation
from clearroom.server.vulnerabilities.services import open_counts

Outcome = CheckResult.Outcome
Result = tuple[str, str, str, dict[str, object]]
"""(outcome, title, detail, data)"""


def _sbom(release: Release) -> Result:
    sboms = list(release.sboms.filter(error=""))
    if not sboms:
        return Outcome.FAIL, "SBOM", "The release has no readable SBOM.", {}
    scores = {
        s.document.name: {k: (s.quality.get(k) or {}).get("score") for k in ("ntia", "bsi")}
        for s in sboms
    }
    components = sum(s.components for s in sboms)
    detail = f"{len(sboms)} SBOM(s), {components} components; quality scores {scores}"
    return Outcome.PASS, "SBOM", detail, {"components": components, "scores": scores}


def _vulnerabilities(release: Release) -> Result:
    counts = open_counts(release)
    severe = counts.get("critical", 0) + counts.get("high", 0)
    detail = ", ".join(f"{n} {rating}" for rating, n in counts.items() if n) or "none open"
    outcome = Outcome.FAIL if severe else Outcome.PASS
    return outcome, "Known vulnerabilities (after VEX)", detail, {"open": counts}


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
    detail = f"{total - pending} of {total} facts in the transparency log"
    return outcome, "Transparency log", detail, {"facts": total, "pending": pending}


CHECKS: dict[str, Callable[[Release], Result]] = {
    "sbom": _sbom,
    "vulnerabilities": _vulnerabilities,
    "signed-manifest": _signature,
    "transparency-log": _logged,
}


def attach(evaluation: Evaluation) -> list[CheckResult]:
    """Run every check on the evaluation's release and keep the results (again: replaced)."""
    results = []
    for check_id, run in CHECKS.items():
        outcome, title, detail, data = run(evaluation.release)
        result, _ = CheckResult.objects.update_or_create(
            evaluation=evaluation,
            check_id=check_id,
            defaults={"title": title, "outcome": outcome, "detail": detail, "data": data},
        )
        results.append(result)
    return results
