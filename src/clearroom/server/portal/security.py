"""The portal's security pages: what a release contains (its SBOMs' components and how complete
they are), which vulnerabilities affect it and how that changed over time, a vendor's portfolio,
notifications, and following a product.

Only presentation lives here. Which releases an actor sees is :mod:`clearroom.server.authz`'s
rule; components and findings come from SBOM documents, so they are shown only where the actor
may read that document — a confidential SBOM's contents stay with those who may read it, and
the history chart (whose counts cover every SBOM) is shown only to them as well. Pages never
say that something was left out, so the existence of a confidential SBOM does not leak."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor, Permission, release_files, visible_releases
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.catalog.models import Document, Product, Release
from clearroom.server.notifications.models import Notification
from clearroom.server.portal import charts
from clearroom.server.portal.errors import portal_view
from clearroom.server.vulnerabilities.models import (
    Component,
    Evaluation,
    Finding,
    Follow,
    ReleaseSbom,
)
from clearroom.server.vulnerabilities.services import (
    count_open,
    findings_for,
    following_organisation,
    history_field,
    open_findings,
    readable_sboms,
)
from clearroom.server.vulnerabilities.services import follow as follow_product
from clearroom.vulns.scan import SEVERITY_ORDER

SEVERITIES: tuple[str, ...] = SEVERITY_ORDER
COMPONENTS_PAGE_SIZE = 50
FINDINGS_PAGE_SIZE = 100
PORTFOLIO_PAGE_SIZE = 100
NOTIFICATIONS_SHOWN = 20
EVALUATIONS_READ = 1000
"""Newest evaluations read for a chart; the chart keeps the last of each day."""
MISSING_SHOWN = 5
QUERY_MAX_LENGTH = 200
EXPORT_FORMATS = (("json", "JSON"), ("csv", "CSV"), ("cyclonedx", "CycloneDX VDR"))
STANDARDS = (("ntia", "NTIA"), ("bsi", "BSI TR-03183-2"))
OSV_URL = "https://osv.dev/vulnerability/"


# --- what the actor may see ---------------------------------------------------------------


def _release_sboms(actor: Actor, release: Release) -> list[ReleaseSbom]:
    """The release's parsed SBOMs ``actor`` may read."""
    documents = release_files(actor, release, Document)
    return list(
        ReleaseSbom.objects.filter(document__in=documents)
        .select_related("document")
        .order_by("document__name")
    )


def _findings(actor: Actor, release: Release) -> QuerySet[Finding]:
    return findings_for(actor, Release.objects.filter(pk=release.pk))


def _zero() -> dict[str, int]:
    return dict.fromkeys(SEVERITIES, 0)


def _add(counts: dict[str, int], rating: str, n: int) -> None:
    counts[rating if rating in counts else "unknown"] += n


def severity_rows(counts: dict[str, int]) -> list[dict[str, Any]]:
    """``counts`` in severity order, for templates: rating, label, count."""
    return [{"rating": s, "label": s.capitalize(), "count": counts.get(s, 0)} for s in SEVERITIES]


def _quality(sbom: ReleaseSbom) -> list[dict[str, Any]]:
    """Each standard's score and the elements most often missing (lowest share first)."""
    result = []
    for key, label in STANDARDS:
        report = (sbom.quality or {}).get(key)
        if not report:
            continue
        elements = sorted(
            ((share, name) for name, share in report.get("elements", {}).items() if share < 100),
            key=lambda item: (item[0], item[1]),
        )
        result.append(
            {
                "key": key,
                "label": label,
                "standard": report.get("standard", label),
                "score": report.get("score", 0),
                "missing": [{"element": n, "share": s} for s, n in elements[:MISSING_SHOWN]],
                "more_missing": max(len(elements) - MISSING_SHOWN, 0),
                "document": report.get("document", []),
                "incomplete_components": len(report.get("components", {})),
            }
        )
    return result


def _chart(actor: Actor, release: Release, *, ident: str) -> charts.Chart | None:
    """The history of open findings in the counts ``actor`` may see (full or public)."""
    counted = history_field(actor, release)
    if counted is None:
        return None
    newest = (
        Evaluation.objects.filter(release=release)
        .exclude(**{f"{counted}__isnull": True})
        .order_by("-at", "-pk")[:EVALUATIONS_READ]
    )
    points = charts.daily_points(reversed(list(newest)), counted=counted)
    subject = f"{release.product.name} {release.version}"
    return charts.open_findings_chart(points, ident=ident, subject=subject)


def _release_args(release: Release) -> list[str]:
    p = release.product
    return [p.vendor.slug, p.slug, release.version]


def _release_kwargs(release: Release) -> dict[str, str]:
    org, product, version = _release_args(release)
    return {"org": org, "product": product, "version": version}


# --- the release page's summary -----------------------------------------------------------


def release_context(actor: Actor, release: Release) -> dict[str, Any]:
    """The security panel of a release page: its SBOMs' scores, components, open findings."""
    sboms = _release_sboms(actor, release)
    counts = count_open(_findings(actor, release))
    args = _release_args(release)
    return {
        "security": {
            "sboms": [{"sbom": s, "quality": _quality(s)} for s in sboms],
            "components": sum(s.components for s in sboms),
            "severities": severity_rows(counts),
            "open_total": sum(counts.values()),
            "components_url": reverse("portal:components", args=args),
            "vulnerabilities_url": reverse("portal:vulnerabilities", args=args),
        }
    }


# --- components -----------------------------------------------------------------------------


def _page_link(base: dict[str, str], number: int) -> str:
    return "?" + urlencode({**{k: v for k, v in base.items() if v}, "page": number})


@require_GET
@portal_view()
@allow(Permission.PUBLIC_READ, "release")
def components(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    """A release's components, searchable by name or purl, with each one's open findings."""
    auth = authorized(request)
    actor, release = auth.actor, auth.resource.release
    sboms = _release_sboms(actor, release)
    query = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    still_open = open_findings(_findings(actor, release)).filter(component=OuterRef("pk"))
    counted = still_open.order_by().values("component").annotate(n=Count("pk")).values("n")
    rows = (
        Component.objects.filter(sbom__in=sboms)
        .annotate(open_findings=Coalesce(Subquery(counted), 0))
        .order_by("name", "version", "pk")
    )
    if query:
        rows = rows.filter(
            Q(name__icontains=query) | Q(purl__icontains=query) | Q(package__icontains=query)
        )
    page = Paginator(rows, COMPONENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_release_page_context(release),
        "sboms": [{"sbom": s, "quality": _quality(s)} for s in sboms],
        "query": query,
        "page": page,
        "previous_url": _page_link({"q": query}, page.number - 1) if page.has_previous() else "",
        "next_url": _page_link({"q": query}, page.number + 1) if page.has_next() else "",
    }
    return render(request, "portal/components.html", context)


def _release_page_context(release: Release) -> dict[str, Any]:
    args = _release_args(release)
    return {
        "release": release,
        "product": release.product,
        "vendor": release.product.vendor,
        "release_url": reverse("portal:release", args=args),
        "components_url": reverse("portal:components", args=args),
        "vulnerabilities_url": reverse("portal:vulnerabilities", args=args),
    }


# --- vulnerabilities ------------------------------------------------------------------------

STATUS_CHOICES = [
    ("open", "Open (affected, unknown, under investigation)"),
    ("all", "All that currently apply"),
    *[(value, label) for value, label in Finding.Status.choices],
    ("resolved", "No longer applying"),
]


class FindingFilter(forms.Form):
    severity = forms.ChoiceField(
        choices=[("", "Any severity"), *[(s, s.capitalize()) for s in SEVERITIES]],
        required=False,
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)


_SEVERITY_RANK = Case(
    *[When(rating=s, then=Value(i)) for i, s in enumerate(SEVERITIES)],
    default=Value(len(SEVERITIES)),
    output_field=IntegerField(),
)


def _filtered(findings: QuerySet[Finding], severity: str, status: str) -> QuerySet[Finding]:
    if status == "open":
        findings = open_findings(findings)
    elif status == "all":
        findings = findings.filter(resolved_at__isnull=True)
    elif status == "resolved":
        findings = findings.filter(resolved_at__isnull=False)
    else:
        findings = findings.filter(resolved_at__isnull=True, shown_status=status)
    if severity:
        findings = findings.filter(rating=severity)
    return findings


def _present(findings: Iterable[Finding]) -> list[Finding]:
    shown = list(findings)
    for f in shown:
        f.osv_url = OSV_URL + f.advisory_id  # type: ignore[attr-defined]
        f.alias_links = [(a, OSV_URL + a) for a in f.aliases]  # type: ignore[attr-defined]
        f.path_texts = [" → ".join(path) for path in f.component.paths]  # type: ignore[attr-defined]
        f.severity_label = f.rating.capitalize()  # type: ignore[attr-defined]
        f.status_label = Finding.Status(f.shown_status).label  # type: ignore[attr-defined]
    return shown


def _export_query(fmt: str, severity: str, status: str) -> str:
    """The API's parameters for the findings shown (it keeps no resolved findings)."""
    params = {"format": fmt, "severity": severity}
    if status != "resolved":
        params["status"] = status
    return urlencode({k: v for k, v in params.items() if v})


@require_GET
@portal_view()
@allow(Permission.PUBLIC_READ, "release")
def vulnerabilities(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    """A release's findings, filtered by severity and status (open ones by default), with the
    advisory snapshot they were matched against and the history of open findings."""
    auth = authorized(request)
    actor, release = auth.actor, auth.resource.release
    sboms = _release_sboms(actor, release)
    form = FindingFilter(request.GET)
    severity, status = "", "open"
    if form.is_valid():
        severity = form.cleaned_data["severity"] or ""
        status = form.cleaned_data["status"] or "open"
    base = _findings(actor, release)
    rows = (
        _filtered(base, severity, status)
        .select_related("component")
        .annotate(severity_rank=_SEVERITY_RANK)
        .order_by("severity_rank", F("score").desc(nulls_last=True), "advisory_id", "pk")
    )
    page = Paginator(rows, FINDINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    latest = Evaluation.objects.filter(release=release).order_by("-at", "-pk").first()
    api = reverse("api:vulnerabilities", kwargs=_release_kwargs(release))
    filters = {"severity": severity, "status": status}
    context = {
        **_release_page_context(release),
        "form": form,
        "severity": severity,
        "status": status,
        "status_label": dict(STATUS_CHOICES).get(status, status),
        "page": page,
        "findings": _present(page.object_list),
        "previous_url": _page_link(filters, page.number - 1) if page.has_previous() else "",
        "next_url": _page_link(filters, page.number + 1) if page.has_next() else "",
        "severities": severity_rows(count_open(base)),
        "has_sbom": bool(sboms),
        "latest": latest,
        "chart": _chart(actor, release, ident="history"),
        "exports": [
            (label, f"{api}?{_export_query(fmt, severity, status)}")
            for fmt, label in EXPORT_FORMATS
        ],
    }
    return render(request, "portal/vulnerabilities.html", context)


# --- a vendor's portfolio -------------------------------------------------------------------


@require_GET
@portal_view()
@allow(Permission.PUBLIC_READ, "organisation")
def portfolio(request: HttpRequest, org: str) -> HttpResponse:
    """Every published release of a vendor with its open findings by severity, and totals."""
    auth = authorized(request)
    actor, organisation = auth.actor, auth.resource.organisation
    releases = (
        visible_releases(actor)
        .filter(product__vendor=organisation, state=Release.State.PUBLISHED)
        .select_related("product")
        .order_by("product__name", F("published_at").desc(nulls_last=True), "-pk")
    )
    by_release: dict[int, dict[str, int]] = {}
    totals = _zero()
    sboms = readable_sboms(actor, releases)
    found = open_findings(findings_for(actor, releases))
    for release_id, rating, n in (
        found.values_list("release_id", "rating").annotate(n=Count("id")).order_by()
    ):
        _add(by_release.setdefault(release_id, _zero()), rating, n)
        _add(totals, rating, n)
    with_sbom = set(sboms.values_list("release_id", flat=True).distinct())
    page = Paginator(releases, PORTFOLIO_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for r in page.object_list:
        counts = by_release.get(r.pk, _zero())
        args = [organisation.slug, r.product.slug, r.version]
        rows.append(
            {
                "release": r,
                "url": reverse("portal:release", args=args),
                "vulnerabilities_url": reverse("portal:vulnerabilities", args=args),
                "has_sbom": r.pk in with_sbom,
                "severities": severity_rows(counts),
                "total": sum(counts.values()),
            }
        )
    context = {
        "organisation": organisation,
        "page": page,
        "rows": rows,
        "severity_names": [s.capitalize() for s in SEVERITIES],
        "totals": severity_rows(totals),
        "total": sum(totals.values()),
        "releases_with_sbom": len(with_sbom),
        "api_url": reverse("api:portfolio", kwargs={"org": organisation.slug}),
        "previous_url": _page_link({}, page.number - 1) if page.has_previous() else "",
        "next_url": _page_link({}, page.number + 1) if page.has_next() else "",
    }
    return render(request, "portal/portfolio.html", context)


# --- the organisation page: notifications ---------------------------------------------------


def organisation_context(
    actor: Actor, organisation: Organisation, role: str | None
) -> dict[str, Any]:
    """The portfolio link for everyone; the newest notifications for members (about releases
    they may see: a follower never hears of a vendor's draft)."""
    context: dict[str, Any] = {
        "portfolio_url": reverse("portal:portfolio", args=[organisation.slug])
    }
    if role is not None:
        notes = list(
            Notification.objects.filter(
                Q(release__isnull=True) | Q(release__in=visible_releases(actor)),
                organisation=organisation,
            )
            .select_related("release__product__vendor")
            .order_by("-created_at", "-pk")[:NOTIFICATIONS_SHOWN]
        )
        for n in notes:
            if not n.url and n.release is not None:  # written before notifications kept links
                n.url = reverse("portal:vulnerabilities", args=_release_args(n.release))
        context["notifications"] = notes
    return context


# --- the product page: following and the history chart --------------------------------------


def product_context(actor: Actor, product: Product) -> dict[str, Any]:
    """Followers, the follow button, and the history of the latest published release."""
    follower = following_organisation(actor) if actor.is_authenticated else None
    latest = (
        visible_releases(actor)
        .filter(product=product, state=Release.State.PUBLISHED)
        .select_related("product__vendor")
        .order_by(F("published_at").desc(nulls_last=True), "-pk")
        .first()
    )
    chart = None
    if latest is not None:
        chart = _chart(actor, latest, ident="product-history")
    return {
        "followers": Follow.objects.filter(product=product).count(),
        "follower": follower,
        "following": follower is not None
        and Follow.objects.filter(product=product, organisation=follower).exists(),
        "follow_url": reverse("portal:follow", args=[product.vendor.slug, product.slug]),
        "latest_release": latest,
        "latest_vulnerabilities_url": (
            reverse("portal:vulnerabilities", args=_release_args(latest)) if latest else ""
        ),
        "chart": chart,
    }


def _product_url(org: str, product: str, **_: Any) -> str:
    return reverse("portal:product", args=[org, product])


@require_POST
@portal_view(back=_product_url)
@allow(Permission.PRODUCT_FOLLOW, "product")
def follow(request: HttpRequest, org: str, product: str) -> HttpResponse:
    """Follow (or, with ``action=unfollow``, stop following) a product for the user's first
    organisation: its members are notified of new findings in the product's releases."""
    auth = authorized(request)
    actor, found = auth.actor, auth.resource.product
    on = request.POST.get("action") != "unfollow"
    follower = follow_product(actor, found, on=on)
    if not on:
        messages.success(request, f"{follower.name} no longer follows {found.name}.")
    else:
        messages.success(
            request,
            f"{follower.name} follows {found.name}: its members see new findings"
            " in their notifications.",
        )
    return redirect(_product_url(org, product))
