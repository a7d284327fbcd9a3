"""Evaluations, findings and threads: everything here is seen only by its two parties."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Router, Schema, Status

from clearroom.server.api.schemas import Problem
from clearroom.server.audit import services as audit
from clearroom.server.authz import Permission
from clearroom.server.authz.request import client_ip
from clearroom.server.authz.routes import Allow
from clearroom.server.catalog.names import served_media_type
from clearroom.server.collaboration import access, discussions, evaluations
from clearroom.server.collaboration.models import (
    Attachment,
    Evaluation,
    Message,
    ReviewFinding,
    Thread,
)
from clearroom.server.errors import Invalid, NotFound
from clearroom.server.services import blob_store
from clearroom.server.standards import services as standards

router = Router(tags=["collaboration"])
ERRORS: dict[int, type[Problem]] = dict.fromkeys((400, 401, 403, 404, 409, 413, 422), Problem)
RELEASE = "/products/{org}/{product}/releases/{version}"
MAX_REPORT = 1 << 20


class EvaluationIn(Schema):
    standard: str = Field("", max_length=200)
    """The standard's name; may be left out when ``catalogue`` names a published one."""
    catalogue: str | None = Field(None, max_length=300)
    """A published catalogue version, ``<organisation>/<slug>@<version>``: verdicts must then
    name its control ids."""
    scope: str = Field("", max_length=5000)


class AcceptIn(Schema):
    access_until: datetime | None = None


class DeclineIn(Schema):
    reason: str = Field(..., min_length=1, max_length=5000)


class VerdictIn(Schema):
    requirement: str = Field(..., min_length=1, max_length=100)
    value: str
    rationale: str = Field("", max_length=20000)


class FindingIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    severity: str
    body: str = Field(..., min_length=1)


class StatusIn(Schema):
    status: str
    note: str = Field("", max_length=20000)


class AssignIn(Schema):
    username: str | None = None


class QuestionIn(Schema):
    subject: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1)
    version: str | None = None


class MessageIn(Schema):
    body: str = Field(..., min_length=1)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def evaluation_out(e: Evaluation) -> dict[str, Any]:
    release = e.release
    return {
        "ref": str(e.ref),
        "release": {
            "vendor": release.product.vendor.slug,
            "product": release.product.slug,
            "version": release.version,
        },
        "evaluator": e.evaluator.slug,
        "standard": e.standard,
        "scope": e.scope,
        "state": e.state,
        "requested_at": _time(e.requested_at),
        "decided_at": _time(e.decided_at),
        "decline_reason": e.decline_reason,
        "access_until": _time(e.grant.expires_at) if e.grant else None,
        "checks": [
            {
                "check": c.check_id,
                "title": c.title,
                "outcome": c.outcome,
                "detail": c.detail,
                "checked_at": _time(c.checked_at),
            }
            for c in e.checks.all()
        ],
        "catalogue": standards.reference(e.catalogue) if e.catalogue else None,
        "verdicts": [
            {"requirement": v.requirement, "value": v.value, "rationale": v.rationale}
            for v in e.verdicts.all()
        ],
        "findings": [str(f.ref) for f in e.findings.all()],
        "result": e.result,
        "report_log_index": e.report.log_entry.index if e.report and e.report.log_entry else None,
    }


def message_out(m: Message) -> dict[str, Any]:
    return {
        "author": m.author.get_username() if m.author else None,
        "organisation": m.author_organisation.slug if m.author_organisation else None,
        "body": m.body,
        "at": _time(m.created_at),
        "mentions": [u.get_username() for u in m.mentions.all()],
        "attachments": [
            {"id": a.pk, "name": a.name, "size": a.size, "sha256": a.sha256}
            for a in m.attachments.all()
        ],
    }


def thread_out(t: Thread) -> dict[str, Any]:
    return {
        "ref": str(t.ref),
        "subject": t.subject,
        "vendor": t.product.vendor.slug,
        "product": t.product.slug,
        "version": t.release.version if t.release else None,
        "counterpart": t.counterpart.slug,
        "messages": [
            message_out(m) for m in t.messages.prefetch_related("attachments", "mentions")
        ],
    }


def finding_out(f: ReviewFinding) -> dict[str, Any]:
    return {
        "ref": str(f.ref),
        "title": f.title,
        "severity": f.severity,
        "status": f.status,
        "raised_by": f.raised_by.slug,
        "evaluation": str(f.evaluation.ref) if f.evaluation else None,
        "assignee": f.assignee.get_username() if f.assignee else None,
        "justification": f.justification,
        "history": [
            {
                "from": h.before,
                "to": h.after,
                "by": h.by_organisation.slug if h.by_organisation else None,
                "note": h.note,
                "at": _time(h.at),
                "log_index": h.log_entry.index if h.log_entry else None,
            }
            for h in f.history.select_related("by_organisation", "log_entry")
        ],
        "thread": thread_out(f.thread),
    }


# -- evaluations ---------------------------------------------------------------------------------


@router.post(
    f"{RELEASE}/evaluations",
    response={201: dict[str, Any], **ERRORS},
    summary="Ask the vendor to let your organisation evaluate this release",
    auth=Allow(Permission.EVALUATION_REQUEST, "release"),
)
def request_evaluation(
    request: HttpRequest, org: str, product: str, version: str, data: EvaluationIn
) -> Any:
    auth = request.auth
    catalogue = standards.by_reference(data.catalogue) if data.catalogue else None
    made = evaluations.request(
        auth.actor,
        auth.resource.release,
        standard=data.standard,
        scope=data.scope,
        catalogue=catalogue,
    )
    return Status(201, evaluation_out(made))


@router.get(
    "/evaluations",
    response=list[dict[str, Any]],
    summary="The evaluations your organisations are a party to (those your token may read)",
    auth=Allow(Permission.PUBLIC_READ),
)
def list_evaluations(request: HttpRequest) -> Any:
    actor = request.auth.actor
    rows = access.readable(actor, Evaluation, Permission.EVALUATION_READ).select_related(
        "release__product__vendor",
        "evaluator",
        "grant",
        "report__log_entry",
        "catalogue__organisation",
    )
    return [evaluation_out(e) for e in rows[:500]]


@router.get(
    "/evaluations/{ref}",
    response={200: dict[str, Any], 404: Problem},
    url_name="evaluation",
    auth=Allow(Permission.EVALUATION_READ, "evaluation"),
)
def get_evaluation(request: HttpRequest, ref: str) -> Any:
    return evaluation_out(request.auth.resource.obj)


@router.post(
    "/evaluations/{ref}/accept",
    response={200: dict[str, Any], **ERRORS},
    summary="Accept: the evaluator may read the release's confidential material until then",
    auth=Allow(Permission.EVALUATION_DECIDE, "evaluation"),
)
def accept_evaluation(request: HttpRequest, ref: str, data: AcceptIn) -> Any:
    found = request.auth.resource.obj
    evaluations.accept(request.auth.actor, found, access_until=data.access_until)
    return evaluation_out(found)


@router.post(
    "/evaluations/{ref}/decline",
    response={200: dict[str, Any], **ERRORS},
    auth=Allow(Permission.EVALUATION_DECIDE, "evaluation"),
)
def decline_evaluation(request: HttpRequest, ref: str, data: DeclineIn) -> Any:
    found = request.auth.resource.obj
    evaluations.decline(request.auth.actor, found, reason=data.reason)
    return evaluation_out(found)


@router.post(
    "/evaluations/{ref}/verdicts",
    response={201: dict[str, Any], **ERRORS},
    auth=Allow(Permission.EVALUATION_WRITE, "evaluation"),
)
def add_verdict(request: HttpRequest, ref: str, data: VerdictIn) -> Any:
    found = request.auth.resource.obj
    evaluations.record_verdict(request.auth.actor, found, **data.dict())
    return Status(201, evaluation_out(found))


@router.post(
    "/evaluations/{ref}/findings",
    response={201: dict[str, Any], **ERRORS},
    auth=Allow(Permission.EVALUATION_WRITE, "evaluation"),
)
def add_evaluation_finding(request: HttpRequest, ref: str, data: FindingIn) -> Any:
    found = request.auth.resource.obj
    made = discussions.raise_finding(
        request.auth.actor, found.release, evaluation=found, **data.dict()
    )
    return Status(201, finding_out(made))


@router.post(
    "/evaluations/{ref}/checks",
    response={200: dict[str, Any], **ERRORS},
    summary="Run the automated checks again now (they also re-run when the release's facts change)",
    auth=Allow(Permission.EVALUATION_WRITE, "evaluation"),
)
def rerun_checks(request: HttpRequest, ref: str) -> Any:
    found = request.auth.resource.obj
    evaluations.rerun_checks(found)
    return evaluation_out(found)


@router.post(
    "/evaluations/{ref}/report",
    response={200: dict[str, Any], **ERRORS},
    summary="Submit the final report: an SLSA VSA signed by your organisation's key",
    auth=Allow(Permission.EVALUATION_WRITE, "evaluation"),
)
def submit_report(request: HttpRequest, ref: str) -> Any:
    if len(request.body) > MAX_REPORT:
        raise Invalid(f"a signed report is at most {MAX_REPORT} bytes")
    found = evaluations.submit_report(request.auth.actor, request.auth.resource.obj, request.body)
    return evaluation_out(found)


# -- findings and threads --------------------------------------------------------------------------


@router.post(
    f"{RELEASE}/findings",
    response={201: dict[str, Any], **ERRORS},
    summary="Raise a finding about a release you may see",
    auth=Allow(Permission.FINDING_RAISE, "release"),
)
def raise_finding(
    request: HttpRequest, org: str, product: str, version: str, data: FindingIn
) -> Any:
    made = discussions.raise_finding(
        request.auth.actor, request.auth.resource.release, **data.dict()
    )
    return Status(201, finding_out(made))


@router.get(
    "/findings/{ref}",
    response={200: dict[str, Any], 404: Problem},
    url_name="finding",
    auth=Allow(Permission.THREAD_READ, "finding"),
)
def get_finding(request: HttpRequest, ref: str) -> Any:
    return finding_out(request.auth.resource.obj)


@router.post(
    "/findings/{ref}/status",
    response={200: dict[str, Any], **ERRORS},
    summary="Move a finding: the vendor acknowledges, plans, fixes, disputes or accepts the"
    " risk; the raiser verifies or reopens",
    auth=Allow(Permission.THREAD_WRITE, "finding"),
)
def change_status(request: HttpRequest, ref: str, data: StatusIn) -> Any:
    moved = discussions.change_status(
        request.auth.actor, request.auth.resource.obj, data.status, note=data.note
    )
    return finding_out(moved)


@router.post(
    "/findings/{ref}/assign",
    response={200: dict[str, Any], **ERRORS},
    auth=Allow(Permission.FINDING_RESPOND, "finding"),
)
def assign(request: HttpRequest, ref: str, data: AssignIn) -> Any:
    return finding_out(
        discussions.assign(request.auth.actor, request.auth.resource.obj, data.username)
    )


@router.post(
    "/products/{org}/{product}/questions",
    response={201: dict[str, Any], **ERRORS},
    summary="Ask the vendor's experts a question about a product (or one of its releases)",
    auth=Allow(Permission.THREAD_ASK, "product"),
)
def ask(request: HttpRequest, org: str, product: str, data: QuestionIn) -> Any:
    thread = discussions.ask(
        request.auth.actor,
        request.auth.resource.product,
        subject=data.subject,
        body=data.body,
        version=data.version or "",
    )
    return Status(201, thread_out(thread))


@router.get(
    "/threads/{ref}",
    response={200: dict[str, Any], 404: Problem},
    url_name="thread",
    auth=Allow(Permission.THREAD_READ, "thread"),
)
def get_thread(request: HttpRequest, ref: str) -> Any:
    return thread_out(request.auth.resource.obj)


@router.post(
    "/threads/{ref}/messages",
    response={201: dict[str, Any], **ERRORS},
    auth=Allow(Permission.THREAD_WRITE, "thread"),
)
def post_message(request: HttpRequest, ref: str, data: MessageIn) -> Any:
    message = discussions.post(request.auth.actor, request.auth.resource.obj, data.body)
    return Status(201, message_out(message))


@router.get(
    "/threads/{ref}/attachments/{attachment}",
    response={200: None, 404: Problem},
    url_name="attachment",
    summary="Download an attachment (the read is on the audit trail)",
    auth=Allow(Permission.THREAD_READ, "thread"),
)
def download_attachment(request: HttpRequest, ref: str, attachment: int) -> Any:
    thread = request.auth.resource.obj
    found = Attachment.objects.filter(pk=attachment, message__thread=thread).first()
    if found is None:
        raise NotFound(f"attachment {attachment} does not exist in this thread")
    audit.record(
        request.auth.actor,
        "thread:attachment:read",
        allowed=True,
        target=f"thread {thread.ref} attachment {found.name}",
        organisation=thread.product.vendor,
        ip=client_ip(request),
    )
    with blob_store().open_reader(found.sha256) as reader:
        body = b"".join(reader)
    response = HttpResponse(body, content_type=served_media_type(found.media_type))
    response["Content-Disposition"] = content_disposition_header(True, found.name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
