"""The portal's collaboration pages: evaluations, findings, question threads and the personal
inbox, plus the forms on a release page that start them. Every rule is in
:mod:`clearroom.server.collaboration`; these views read forms and render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clearroom.server.authz import Actor, Permission
from clearroom.server.authz.routes import allow, authorized
from clearroom.server.authz.rules import decide
from clearroom.server.catalog.models import Release
from clearroom.server.collaboration import access, checks, discussions, evaluations
from clearroom.server.collaboration.models import (
    Evaluation,
    ReviewFinding,
    Thread,
    Verdict,
)
from clearroom.server.errors import Invalid
from clearroom.server.portal.errors import portal_view
from clearroom.server.portal.uploads import files_of
from clearroom.server.standards import services as standards
from clearroom.server.standards.models import Catalogue, Control


def _back_to_release(org: str, product: str, version: str, **_: Any) -> str:
    return reverse("portal:release", args=[org, product, version])


def _back_to(name: str) -> Any:
    def back(ref: str, **_: Any) -> str:
        return reverse(f"portal:{name}", args=[ref])

    return back


def release_context(actor: Actor, release: Release) -> dict[str, Any]:
    """The release page's collaboration section: what the actor's organisations have going on
    with this release, and the forms they may use (nothing for a visitor who is not signed in)."""
    if not actor.is_authenticated:
        return {}
    product = release.product
    published = release.state == Release.State.PUBLISHED
    vendor = product.vendor

    def may(permission: Permission) -> bool:
        return published and decide(actor, permission, vendor, product).allowed

    own = actor.memberships()
    return {
        "evaluations": access.readable(actor, Evaluation, Permission.EVALUATION_READ)
        .filter(release=release)
        .select_related("evaluator"),
        "review_findings": discussions.findings_for(actor, release),
        "threads": access.readable(actor, Thread, Permission.THREAD_READ)
        .filter(product=product, finding__isnull=True)
        .select_related("counterpart")[:20],
        "may_request_evaluation": vendor.pk not in own and may(Permission.EVALUATION_REQUEST),
        "catalogues": Catalogue.objects.select_related("organisation").order_by(
            "organisation__name", "slug", "-published_at"
        ),
        "may_raise_finding": vendor.pk not in own and may(Permission.FINDING_RAISE),
        "may_ask": vendor.pk not in own and may(Permission.THREAD_ASK),
        "severities": ReviewFinding.Severity.choices,
    }


# -- starting things from a release ------------------------------------------------------------


@require_POST
@portal_view(back=_back_to_release)
@allow(Permission.EVALUATION_REQUEST, "release")
def request_evaluation(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    auth = authorized(request)
    chosen = request.POST.get("catalogue", "")
    made = evaluations.request(
        auth.actor,
        auth.resource.release,
        standard=request.POST.get("standard", ""),
        catalogue=standards.by_reference(chosen) if chosen else None,
        scope=request.POST.get("scope", ""),
    )
    messages.success(request, "Evaluation requested; the vendor is notified.")
    return redirect("portal:evaluation", ref=made.ref)


@require_POST
@portal_view(back=_back_to_release)
@allow(Permission.FINDING_RAISE, "release")
def raise_finding(request: HttpRequest, org: str, product: str, version: str) -> HttpResponse:
    auth = authorized(request)
    made = discussions.raise_finding(
        auth.actor,
        auth.resource.release,
        title=request.POST.get("title", ""),
        severity=request.POST.get("severity", ""),
        body=request.POST.get("body", ""),
    )
    messages.success(request, "Finding raised; the vendor is notified.")
    return redirect("portal:finding", ref=made.ref)


@require_POST
@portal_view(back=lambda org, product, **_: reverse("portal:product", args=[org, product]))
@allow(Permission.THREAD_ASK, "product")
def ask(request: HttpRequest, org: str, product: str) -> HttpResponse:
    auth = authorized(request)
    thread = discussions.ask(
        auth.actor,
        auth.resource.product,
        subject=request.POST.get("subject", ""),
        body=request.POST.get("body", ""),
        version=request.POST.get("version", ""),
    )
    messages.success(request, "Question sent to the vendor's experts.")
    return redirect("portal:thread", ref=thread.ref)


# -- evaluations ---------------------------------------------------------------------------------


@require_GET
@portal_view()
@allow(Permission.EVALUATION_READ, "evaluation")
def evaluation(request: HttpRequest, ref: str) -> HttpResponse:
    auth = authorized(request)
    found: Evaluation = auth.resource.obj
    vendor = found.vendor
    product = found.release.product

    def may(permission: Permission) -> bool:
        return decide(auth.actor, permission, vendor, product, counterpart=found.evaluator).allowed

    context = {
        "evaluation": found,
        "release": found.release,
        "checks": found.checks.all(),
        "verdicts": found.verdicts.all(),
        "controls": _controls(found),
        "findings": found.findings.all(),
        "verdict_values": Verdict.Value.choices,
        "severities": ReviewFinding.Severity.choices,
        "may_decide": found.state == Evaluation.State.REQUESTED
        and may(Permission.EVALUATION_DECIDE),
        "may_work": found.state == Evaluation.State.ACCEPTED and may(Permission.EVALUATION_WRITE),
        "may_rerun": found.state == checks.RUNS_WHILE and may(Permission.EVALUATION_WRITE),
        "default_until": (timezone.now() + evaluations.DEFAULT_ACCESS).strftime("%Y-%m-%d"),
        "api_url": reverse("api:evaluation", kwargs={"ref": found.ref}),
    }
    return render(request, "portal/evaluation.html", context)


def _controls(found: Evaluation) -> list[tuple[Control, Verdict | None]] | None:
    """Each control of the evaluation's catalogue beside its verdict so far (None: no
    catalogue)."""
    if found.catalogue is None:
        return None
    verdicts = {v.requirement: v for v in found.verdicts.all()}
    return [(c, verdicts.get(c.control_id)) for c in found.catalogue.controls.all()]


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")  # noqa: DTZ007 - made aware below
    except ValueError:
        raise Invalid("access_until: give a date as YYYY-MM-DD") from None
    return timezone.make_aware(day.replace(hour=23, minute=59))


@require_POST
@portal_view(back=_back_to("evaluation"))
@allow(Permission.EVALUATION_DECIDE, "evaluation")
def decide_evaluation(request: HttpRequest, ref: str) -> HttpResponse:
    auth = authorized(request)
    found = auth.resource.obj
    if request.POST.get("decision") == "accept":
        until = _date(request.POST.get("access_until", ""))
        evaluations.accept(auth.actor, found, access_until=until)
        messages.success(request, "Accepted: the evaluator may read the confidential files.")
    else:
        evaluations.decline(auth.actor, found, reason=request.POST.get("reason", ""))
        messages.success(request, "Declined; the evaluator is told why.")
    return redirect("portal:evaluation", ref=ref)


@require_POST
@portal_view(back=_back_to("evaluation"))
@allow(Permission.EVALUATION_WRITE, "evaluation")
def rerun_checks(request: HttpRequest, ref: str) -> HttpResponse:
    evaluations.rerun_checks(authorized(request).resource.obj)
    messages.success(request, "Automated checks run again.")
    return redirect("portal:evaluation", ref=ref)


@require_POST
@portal_view(back=_back_to("evaluation"))
@allow(Permission.EVALUATION_WRITE, "evaluation")
def evaluation_work(request: HttpRequest, ref: str) -> HttpResponse:
    """Record a verdict, raise a finding, or upload the signed final report."""
    auth = authorized(request)
    found = auth.resource.obj
    action = request.POST.get("action")
    if action == "verdict":
        evaluations.record_verdict(
            auth.actor,
            found,
            requirement=request.POST.get("requirement", ""),
            value=request.POST.get("value", ""),
            rationale=request.POST.get("rationale", ""),
        )
        messages.success(request, "Verdict recorded.")
    elif action == "finding":
        made = discussions.raise_finding(
            auth.actor,
            found.release,
            evaluation=found,
            title=request.POST.get("title", ""),
            severity=request.POST.get("severity", ""),
            body=request.POST.get("body", ""),
        )
        messages.success(request, "Finding raised; the vendor is notified.")
        return redirect("portal:finding", ref=made.ref)
    elif action == "report":
        uploads = files_of(request, "report")
        upload = uploads[0] if uploads else None
        if upload is None or upload.size > 1 << 20:
            raise Invalid("report: upload the signed report (DSSE JSON, at most 1 MiB)")
        evaluations.submit_report(auth.actor, found, upload.read())
        messages.success(request, "Report logged; access to the confidential files has ended.")
    else:
        raise Invalid("action must be verdict, finding or report")
    return redirect("portal:evaluation", ref=ref)


# -- findings and threads --------------------------------------------------------------------------


def _thread_page(request: HttpRequest, thread: Thread, extra: dict[str, Any]) -> HttpResponse:
    context = {
        "thread": thread,
        "messages_": thread.messages.select_related(
            "author", "author_organisation"
        ).prefetch_related("attachments"),
        "limits": {
            "files": discussions.MAX_ATTACHMENTS,
            "mib": discussions.MAX_ATTACHMENT_BYTES >> 20,
        },
        **extra,
    }
    return render(request, "portal/thread.html", context)


@require_GET
@portal_view()
@allow(Permission.THREAD_READ, "finding")
def finding(request: HttpRequest, ref: str) -> HttpResponse:
    auth = authorized(request)
    found: ReviewFinding = auth.resource.obj
    product = found.release.product
    respond = decide(auth.actor, Permission.FINDING_RESPOND, found.vendor, product).allowed
    verify = decide(
        auth.actor, Permission.FINDING_VERIFY, found.vendor, product, counterpart=found.raised_by
    ).allowed
    moves = {
        **(discussions.VENDOR_MOVES if respond else {}),
        **(discussions.RAISER_MOVES if verify else {}),
    }
    choices = [
        (value, label)
        for value, label in ReviewFinding.Status.choices
        if found.status in moves.get(value, ())
    ]
    experts = found.vendor.membership_set.filter(
        role__in=["owner", "maintainer", "expert"]
    ).select_related("user")
    return _thread_page(
        request,
        found.thread,
        {
            "finding": found,
            "history": found.history.select_related("by_organisation", "log_entry"),
            "status_choices": choices,
            "may_assign": respond,
            "experts": [m.user for m in experts],
            "api_url": reverse("api:finding", kwargs={"ref": found.ref}),
        },
    )


@require_POST
@portal_view(back=_back_to("finding"))
@allow(Permission.THREAD_WRITE, "finding")
def finding_action(request: HttpRequest, ref: str) -> HttpResponse:
    auth = authorized(request)
    found = auth.resource.obj
    if request.POST.get("action") == "assign":
        if not decide(auth.actor, Permission.FINDING_RESPOND, found.vendor).allowed:
            raise Invalid("only the vendor's experts assign findings")
        discussions.assign(auth.actor, found, request.POST.get("username") or None)
        messages.success(request, "Assignment saved.")
    elif request.POST.get("action") == "status":
        discussions.change_status(
            auth.actor, found, request.POST.get("status", ""), note=request.POST.get("note", "")
        )
        messages.success(request, "Status changed; the other party is notified.")
    else:
        _post(request, auth.actor, found.thread)
    return redirect("portal:finding", ref=ref)


@require_GET
@portal_view()
@allow(Permission.THREAD_READ, "thread")
def thread(request: HttpRequest, ref: str) -> HttpResponse:
    found: Thread = authorized(request).resource.obj
    return _thread_page(
        request, found, {"api_url": reverse("api:thread", kwargs={"ref": found.ref})}
    )


@require_POST
@portal_view(back=_back_to("thread"))
@allow(Permission.THREAD_WRITE, "thread")
def thread_message(request: HttpRequest, ref: str) -> HttpResponse:
    auth = authorized(request)
    _post(request, auth.actor, auth.resource.obj)
    return redirect("portal:thread", ref=ref)


def _post(request: HttpRequest, actor: Actor, found: Thread) -> None:
    files = [
        (f.name or "attachment", f.content_type or "application/octet-stream", f.read())
        for f in files_of(request, "attachments")
    ]
    discussions.post(actor, found, request.POST.get("body", ""), files)
    messages.success(request, "Message posted.")
