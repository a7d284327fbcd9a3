"""A vendor's public showcase: its products and supported releases with their support periods,
and its security posture drawn as charts - SBOM quality, open vulnerabilities over time, VEX
coverage, evaluations passed, binary equivalence - with the numbers in tables beside them and
as JSON. Only public facts: published releases, public SBOMs, reported evaluations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clearroom.attest.predicates.slsa import reports_reproduced
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.services import statement_of
from clearroom.server.authz import Actor, Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.catalog.models import Release
from clearroom.server.collaboration.models import Evaluation
from clearroom.server.pagecache.cache import anonymous_cache
from clearroom.server.portal import charts
from clearroom.server.portal.errors import portal_view
from clearroom.server.vulnerabilities.models import Evaluation as ScanRun
from clearroom.server.vulnerabilities.services import findings_for, open_findings

HISTORY_READ = 400


def posture(vendor: Organisation) -> dict[str, Any]:
    """The numbers of the showcase (also its JSON)."""
    today = timezone.now().date()
    releases = list(
        Release.objects.filter(product__vendor=vendor, state=Release.State.PUBLISHED)
        .select_related("product")
        .order_by("product__name", "-published_at")
    )
    rows = []
    for r in releases:
        sboms = list(r.sboms.filter(error="", document__confidentiality="public"))
        ntia = [(s.quality.get("ntia") or {}).get("score") for s in sboms]
        scores = [float(x) for x in ntia if isinstance(x, int | float)]
        # what anyone may read: public SBOMs, decided by public or signed VEX only
        findings = findings_for(Actor(user=None), Release.objects.filter(pk=r.pk))
        affected = findings.filter(match_status="affected", resolved_at__isnull=True)
        decided = affected.filter(shown_vex__isnull=False).count()
        open_counts = dict(
            open_findings(findings).values_list("rating").annotate(n=Count("pk")).order_by()
        )
        rows.append(
            {
                "release": r,
                "product": r.product.name,
                "version": r.version,
                "support_until": r.support_until,
                "supported": r.support_until is None or r.support_until >= today,
                "days_left": (r.support_until - today).days if r.support_until else None,
                "sbom_quality": round(sum(scores) / len(scores)) if scores else None,
                "vex_coverage": round(100 * decided / affected.count())
                if affected.exists()
                else None,
                "open": open_counts,
            }
        )
    evaluations = Evaluation.objects.filter(
        release__product__vendor=vendor, state=Evaluation.State.REPORTED
    ).select_related("release__product", "evaluator", "report__log_entry")
    reproduced = _reproduced(evaluations)
    for row in rows:
        row["reproduced_by"] = reproduced.get(row["release"].pk, [])
    return {
        "releases": rows,
        "evaluations": [
            {
                "release": f"{e.release.product.name} {e.release.version}",
                "standard": e.standard,
                "evaluator": e.evaluator.name,
                "result": e.result,
                "reported_at": e.reported_at,
                "log_index": e.report.log_entry.index if e.report and e.report.log_entry else None,
            }
            for e in evaluations
        ],
        "evaluations_passed": sum(1 for e in evaluations if e.result == "PASSED"),
        "releases_reproduced": sum(1 for row in rows if row["reproduced_by"]),
    }


def _reproduced(evaluations: Iterable[Evaluation]) -> dict[int, list[str]]:
    """Release id → the evaluators whose logged, passed report (an SLSA VSA) says they rebuilt
    it and got the same binaries (``SLSA_BUILD_REPRODUCED`` in ``verifiedLevels``)."""
    found: dict[int, list[str]] = {}
    for e in evaluations:
        if e.report is None or e.report.log_entry is None or e.report.log_entry.index is None:
            continue  # not in the log yet: not a fact anyone can check
        if reports_reproduced(statement_of(e.report).predicate):
            found.setdefault(e.release_id, []).append(e.evaluator.name)
    return found


def _history(vendor: Organisation) -> charts.Chart | None:
    histories = []
    for release in Release.objects.filter(product__vendor=vendor, state=Release.State.PUBLISHED):
        runs = (  # the public counts (public SBOMs, public VEX), none before they were kept
            ScanRun.objects.filter(release=release, public_open_by_severity__isnull=False).order_by(
                "-at", "-pk"
            )[:HISTORY_READ]
        )
        histories.append(charts.daily_points(reversed(list(runs))))
    points = charts.combined_points(histories)
    return charts.open_findings_chart(points, ident="vendor-history", subject=vendor.name)


@require_GET
@anonymous_cache
@portal_view()
@allow(Permission.PUBLIC_READ, "organisation")
def showcase(request: HttpRequest, org: str) -> HttpResponse:
    vendor = authorized(request).resource.organisation
    numbers = posture(vendor)
    if request.GET.get("format") == "json":
        return JsonResponse(_json(numbers), json_dumps_params={"indent": 1})
    rows = numbers["releases"]
    label = "{product} {version}".format
    context = {
        "vendor": vendor,
        "numbers": numbers,
        "today": date.today(),  # noqa: DTZ011 - support dates are calendar days
        "history": _history(vendor),
        "quality": charts.percent_bars(
            [
                charts.Bar(label(**r), r["sbom_quality"])
                for r in rows
                if r["sbom_quality"] is not None
            ],
            ident="sbom-quality",
            title=f"SBOM quality (NTIA minimum elements) of {vendor.name}'s published releases",
        ),
        "coverage": charts.percent_bars(
            [
                charts.Bar(label(**r), r["vex_coverage"])
                for r in rows
                if r["vex_coverage"] is not None
            ],
            ident="vex-coverage",
            title="Share of affected components the vendor has a VEX statement for",
        ),
        "json_url": f"{request.path}?format=json",
        "advisories_url": reverse("csaf-provider"),
    }
    return render(request, "portal/showcase.html", context)


def _json(numbers: dict[str, Any]) -> dict[str, Any]:
    def clean(row: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in row.items()
            if k != "release"
        }

    return {
        **numbers,
        "releases": [clean(r) for r in numbers["releases"]],
        "evaluations": [clean(e) for e in numbers["evaluations"]],
    }
