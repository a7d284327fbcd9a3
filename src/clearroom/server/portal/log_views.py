"""The transparency log's page: what the log is, its latest checkpoint and witnesses, the
newest facts, and how to verify all of it without trusting Clearroom.

Everything shown comes from the log itself (the published checkpoint and each entry's bytes),
not from the catalogue - only the public names of the organisations an entry names by slug are
looked up: a confidential file's name is not in its entry, so it is not shown here to anyone.
What each kind of entry is called is :mod:`.fact_kinds`. The page is the same for every
visitor."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clearroom.server.authz.permissions import Permission
from clearroom.server.authz.routes import allow
from clearroom.server.portal.fact_kinds import FILE_FACTS, Described, describe, organisation_names
from clearroom.server.transparency import services as log
from clearroom.server.transparency.identity import verifier, witnesses
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog.errors import TlogError

RECENT = 25
"""Entries per page of the table, newest first."""


@dataclass(frozen=True)
class Row:
    """One entry of the table, read from the entry's own bytes."""

    index: int
    fact: str
    about: Described
    """Its label, release, subject and author (:mod:`.fact_kinds`)."""
    is_file: bool
    sha256: str
    time: datetime | None
    leaf_hash: str
    entry_url: str
    receipt_url: str | None
    """None while no published checkpoint covers the entry."""


def _time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _parsed(entry: LogEntry) -> dict[str, Any]:
    try:
        fact = json.loads(bytes(entry.entry))
    except ValueError:
        return {}
    return fact if isinstance(fact, dict) else {}


def _rows(entries: list[LogEntry], size: int) -> list[Row]:
    parsed = [_parsed(entry) for entry in entries]
    names = organisation_names(parsed)
    rows = []
    for entry, fact in zip(entries, parsed, strict=True):
        assert entry.index is not None
        covered = entry.index < size
        rows.append(
            Row(
                index=entry.index,
                fact=entry.fact,
                about=describe(fact, names),
                is_file=entry.fact in FILE_FACTS,
                sha256=entry.subject_sha256,
                time=_time(fact.get("time")),
                leaf_hash=entry.leaf_hash,
                entry_url=reverse("api:log-entry", kwargs={"leaf_hash": entry.leaf_hash}),
                receipt_url=(
                    reverse("api:log-receipt", kwargs={"leaf_hash": entry.leaf_hash})
                    if covered
                    else None
                ),
            )
        )
    return rows


def _before(request: HttpRequest) -> int | None:
    """The ``?before=N`` of an "older entries" link; anything else shows the newest."""
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 20 else None


@require_GET
@allow(Permission.PUBLIC_READ)
def log_page(request: HttpRequest) -> HttpResponse:
    key = verifier()
    problem = None
    try:
        state = log.log_state()
    except TlogError as exc:
        state, problem = None, str(exc)
    size = state.checkpoint.size if state else 0

    before = _before(request)
    sequenced = LogEntry.objects.filter(index__isnull=False)
    if before is not None:
        sequenced = sequenced.filter(index__lt=before)
    page = list(sequenced.order_by("-index")[: RECENT + 1])
    rows = _rows(page[:RECENT], size)

    log_url = settings.CONFIG.base_url.rstrip("/") + reverse("portal:log")
    api_url = settings.CONFIG.base_url.rstrip("/") + reverse("api:log")
    context = {
        "state": state,
        "problem": problem,
        "size": size,
        "root_hash": base64.b64encode(state.checkpoint.root_hash).decode() if state else None,
        "checkpoint_text": state.note.decode() if state else None,
        "cosignatures": [
            {
                "name": c.name,
                "key_id": f"{c.key_id:08x}",
                "time": datetime.fromtimestamp(c.timestamp, UTC) if c.timestamp else None,
            }
            for c in (state.cosignatures if state else ())
        ],
        "witnesses": [
            {
                "url": w.url,
                "name": w.verifier.name,
                "key_id": f"{w.verifier.key_id:08x}",
                "key": w.verifier.to_key(),
            }
            for w in witnesses()
        ],
        "min_cosignatures": settings.CONFIG.tlog_min_cosignatures,
        "verifier_key": key.to_key(),
        "origin": key.name,
        "waiting": LogEntry.objects.filter(index__isnull=True).count(),
        "rows": rows,
        "older": rows[-1].index if len(page) > RECENT else None,
        "paged": before is not None,
        "log_url": log_url,
        "api_url": api_url,
        "example": rows[0] if rows and rows[0].receipt_url else None,
        "base_url": settings.CONFIG.base_url.rstrip("/"),
    }
    return render(request, "portal/log.html", context)
