"""What a release contains and what affects it: components (searchable), findings (filters;
JSON, CSV or a CycloneDX 1.6 vulnerability disclosure report) and a vendor's portfolio.

Reads follow the release's visibility, and a confidential SBOM's contents (its components and
their findings) only reach those who may read that SBOM; nothing says something was left out."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Router

from clearroom.server.api.schemas import Problem
from clearroom.server.authz import Actor, Permission, visible_releases
from clearroom.server.authz.routes import Allow
from clearroom.server.catalog.models import Release
from clearroom.server.errors import Invalid
from clearroom.server.vulnerabilities.models import Component, Finding
from clearroom.server.vulnerabilities.services import (
    findings_for,
    history_field,
    open_findings,
    readable_sboms,
)
from clearroom.vulns.report import cyclonedx_analysis
from clearroom.vulns.scan import SEVERITY_ORDER

router = Router(tags=["vulnerabilities"])
PAGE = 500
FORMATS = ("json", "csv", "cyclonedx")
STATUSES = tuple(Finding.Status.values)
CSV_COLUMNS = (
    "advisory",
    "aliases",
    "rating",
    "score",
    "component",
    "version",
    "purl",
    "status",
    "fixed_versions",
    "first_seen",
)


def component_out(c: Component) -> dict[str, Any]:
    return {
        "ref": c.ref,
        "name": c.name,
        "version": c.version,
        "purl": c.purl or None,
        "ecosystem": c.ecosystem or None,
        "licences": c.licences,
        "supplier": c.supplier or None,
        "paths": c.paths,
    }


def finding_out(f: Finding) -> dict[str, Any]:
    """A finding from :func:`findings_for`: the status and VEX the reader may see."""
    return {
        "advisory": f.advisory_id,
        "aliases": f.aliases,
        "summary": f.summary,
        "severity": {"score": f.score, "rating": f.rating, "vector": f.vector or None},
        "component": {"name": f.component.name, "version": f.component.version},
        "purl": f.component.purl,
        "fixed_versions": f.fixed_versions,
        "status": f.shown_status,  # type: ignore[attr-defined]
        "match": {"status": f.match_status, "reason": f.reason or None},
        "vex": f.shown_vex,  # type: ignore[attr-defined]
        "paths": f.component.paths,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "advisory_snapshot": f.snapshot,
    }


@router.get(
    "/products/{org}/{product}/releases/{version}/components",
    response={200: dict[str, Any], 404: Problem},
    url_name="components",
    summary="The release's components from its SBOMs (search with q, page with offset)",
    auth=Allow(Permission.PUBLIC_READ, "release"),
)
def components(
    request: HttpRequest, org: str, product: str, version: str, q: str = "", offset: int = 0
) -> Any:
    actor, release = request.auth.actor, request.auth.resource.release
    readable = readable_sboms(actor, Release.objects.filter(pk=release.pk))
    rows = release.components.filter(sbom__in=readable)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(purl__icontains=q))
    total = rows.count()
    page = rows[max(0, offset) : max(0, offset) + PAGE]
    sboms = [
        {
            "document": s.document.name,
            "format": s.format,
            "spec_version": s.spec_version,
            "components": s.components,
            "quality": {k: v.get("score") for k, v in s.quality.items()},
            "error": s.error or None,
        }
        for s in readable.select_related("document")
    ]
    return {"total": total, "sboms": sboms, "components": [component_out(c) for c in page]}


def _findings(
    actor: Actor, release: Release, severity: str | None, status: str | None
) -> QuerySet[Finding]:
    rows = (
        findings_for(actor, Release.objects.filter(pk=release.pk))
        .select_related("component")
        .filter(resolved_at__isnull=True)
    )
    if severity is not None:
        if severity not in SEVERITY_ORDER:
            raise Invalid(f"severity must be one of {', '.join(SEVERITY_ORDER)}")
        rows = rows.filter(rating=severity)
    if status == "open" or status is None:
        rows = open_findings(rows)
    elif status != "all":
        if status not in STATUSES:
            raise Invalid(f"status must be open, all or one of {', '.join(STATUSES)}")
        rows = rows.filter(shown_status=status)
    return rows


@router.get(
    "/products/{org}/{product}/releases/{version}/vulnerabilities",
    response={200: None, 404: Problem, 422: Problem},
    url_name="vulnerabilities",
    summary="Findings (status open by default; all, or one VEX status), as JSON, CSV or CycloneDX",
    auth=Allow(Permission.PUBLIC_READ, "release"),
)
def vulnerabilities(
    request: HttpRequest,
    org: str,
    product: str,
    version: str,
    severity: str | None = None,
    status: str | None = None,
    format: str = "json",
) -> Any:
    actor, release = request.auth.actor, request.auth.resource.release
    if format not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}")
    rows = list(_findings(actor, release, severity, status))
    counted = history_field(actor, release)
    name = f"{org}-{product}-{version}-vulnerabilities"
    if format == "csv":
        return _csv(rows, name)
    if format == "cyclonedx":
        body = json.dumps(_vdr(release, rows), indent=2)
        response = HttpResponse(body, content_type="application/vnd.cyclonedx+json")
        response["Content-Disposition"] = f'attachment; filename="{name}.cdx.json"'
        return response
    evaluation = release.evaluations.order_by("-at").first()
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for f in rows:
        if f.shown_status in Finding.OPEN:  # type: ignore[attr-defined]
            counts[f.rating if f.rating in counts else "unknown"] += 1
    doc = {
        "release": {"vendor": org, "product": product, "version": version},
        "advisory_snapshot": evaluation.snapshot if evaluation else None,
        "evaluated_at": evaluation.at.isoformat() if evaluation else None,
        "open_by_severity": counts if status in (None, "open") else None,
        # The full stored history counts every SBOM and VEX document; shown to those who may
        # read them all; other readers of an SBOM get the public counts (none before they
        # were kept), readers of none get nothing.
        "history": [
            {"at": e.at.isoformat(), "open_by_severity": getattr(e, counted)}
            for e in reversed(
                release.evaluations.exclude(**{f"{counted}__isnull": True}).order_by("-at")[:1000]
            )  # the newest 1,000
        ]
        if counted
        else [],
        "findings": [finding_out(f) for f in rows],
    }
    return HttpResponse(json.dumps(doc), content_type="application/json")


def _csv(rows: list[Finding], name: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in rows:
        writer.writerow(
            [
                f.advisory_id,
                " ".join(f.aliases),
                f.rating,
                "" if f.score is None else f.score,
                f.component.name,
                f.component.version,
                f.component.purl,
                f.shown_status,  # type: ignore[attr-defined]
                " ".join(f.fixed_versions),
                f.first_seen.isoformat(),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _vdr(release: Release, rows: list[Finding]) -> dict[str, Any]:
    """A CycloneDX 1.6 VDR of the release (the same shape as `clearroom vulns scan
    --format cyclonedx`)."""
    components = {f.component_id: f.component for f in rows}
    vulnerabilities: dict[str, dict[str, Any]] = {}
    for f in rows:
        entry = vulnerabilities.setdefault(
            f.advisory_id,
            {
                "id": f.advisory_id,
                "source": {"name": "OSV", "url": f"https://osv.dev/vulnerability/{f.advisory_id}"},
                "references": [{"id": a, "source": {"name": "alias"}} for a in f.aliases],
                "description": f.summary,
                "affects": [],
            },
        )
        if f.score is not None:
            entry["ratings"] = [{"score": f.score, "severity": f.rating, "vector": f.vector}]
        entry["affects"].append({"ref": f"component-{f.component_id}"})
        if vex := f.shown_vex:  # type: ignore[attr-defined]
            entry["analysis"] = cyclonedx_analysis(
                f.shown_status,  # type: ignore[attr-defined]
                vex.get("justification"),
                vex.get("impact_statement"),
                vex.get("action_statement"),
            )
    p = release.product
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {
                "type": "firmware",
                "bom-ref": "release",
                "name": p.slug,
                "version": release.version,
                "supplier": {"name": p.vendor.name},
            },
        },
        "components": [
            {
                "bom-ref": f"component-{pk}",
                "type": "library",
                "name": c.name,
                **({"version": c.version} if c.version else {}),
                **({"purl": c.purl} if c.purl else {}),
            }
            for pk, c in components.items()
        ],
        "vulnerabilities": list(vulnerabilities.values()),
    }


@router.get(
    "/organisations/{org}/vulnerabilities",
    response={200: dict[str, Any], 404: Problem},
    url_name="portfolio",
    summary="A vendor's portfolio: open findings by severity for each visible release",
    auth=Allow(Permission.PUBLIC_READ, "organisation"),
)
def portfolio(request: HttpRequest, org: str) -> Any:
    actor, organisation = request.auth.actor, request.auth.resource.organisation
    releases = (
        visible_releases(actor)
        .filter(product__vendor=organisation)
        .select_related("product")
        .order_by("product__slug", "-created_at")
    )
    open_rows = open_findings(findings_for(actor, releases))
    counts: dict[int, dict[str, int]] = {}
    for release_id, rating, n in (
        open_rows.values_list("release_id", "rating").annotate(n=Count("id")).order_by()
    ):
        counts.setdefault(release_id, dict.fromkeys(SEVERITY_ORDER, 0))[rating] = n
    return {
        "organisation": organisation.slug,
        "releases": [
            {
                "product": r.product.slug,
                "version": r.version,
                "state": r.state,
                "open": sum(counts.get(r.pk, {}).values()),
                "open_by_severity": counts.get(r.pk, {}),
            }
            for r in releases
        ],
    }
