"""An organisation's audit trail: who read its confidential material, and what its own members
read of others', as JSON with the proofs a third party needs, or as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from clearroom.server.api.schemas import Problem
from clearroom.server.audit import services
from clearroom.server.audit.chain import FIELDS
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import Allow
from clearroom.server.errors import Invalid

router = Router(tags=["audit"])
MAX_LIMIT = 10_000


@router.get(
    "/organisations/{org}/audit",
    response={200: None, 401: Problem, 403: Problem, 404: Problem, 422: Problem},
    url_name="audit",
    summary="The organisation's audit trail, newest first (JSON with proofs, or CSV)",
    description=(
        "Events about the organisation's material and events of its members. Page back with"
        " `before` (an event id). The JSON export holds each sealed event's inclusion proof and"
        " each batch's log fact with its receipt: check it with `clearroom audit verify --export`."
    ),
    auth=Allow(Permission.ORG_AUDIT_READ, "organisation"),
)
def audit_trail(
    request: HttpRequest,
    org: str,
    format: str = "json",
    limit: int = 1000,
    before: int | None = None,
) -> Any:
    organisation = request.auth.resource.organisation
    if format not in ("json", "csv"):
        raise Invalid("format must be json or csv")
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be 1 to {MAX_LIMIT}")
    events = services.trail(organisation)
    if before is not None:
        events = events.filter(pk__lt=before)
    events = events[:limit]
    name = f"{organisation.slug}-audit"
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*FIELDS, "batch"])
        for event in events:
            record = event.canonical()
            record["details"] = json.dumps(record["details"], sort_keys=True)
            writer.writerow([*(record[f] for f in FIELDS), event.batch_id or ""])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    body = json.dumps(services.export(events), indent=1)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response
