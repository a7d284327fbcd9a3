"""The transparency log's page: what the log is, its latest checkpoint and witnesses, the
newest facts, and how to verify all of it without trusting Clearroom.

Everything shown comes from the log itself (the published checkpoint and each entry's bytes),
not from the catalogue: a confidential file's name is not in its entry, so it is not shown
here to anyone. The page is the same for every visitor."""

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
from clearroom.server.transparency import services as log
from clearroom.server.transparency.identity import verifier, witnesses
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts
from clearroom.tlog.errors import TlogError

RECENT = 25
"""Entries per page of the table, newest first."""
FACT_LABELS = {facts.ARTIFACT: "Artifact", facts.DOCUMENT: "Document"}


@dataclass(frozen=True)
class Row:
    """One entry of the table, read from the entry's own bytes."""

    index: int
    fact: str
    label: str
    release: str | None
    """``vendor/product@version``."""
    release_url: str | None
    name: str | None
    """The file's name; None for a confidential file and for release facts."""
    is_file: bool
    sha256: str
    time: datetime | None
    leaf_hash: str
    entry_url: str
    receipt_url: str | None
    """None while no published checkpoint covers the entry."""


def _release_url(release: Any) -> str | None:
    if not isinstance(release, dict):
        return None
    try:
        return reverse(
            "portal:release", args=[release["vendor"], release["product"], release["version"]]
        )
    except (KeyError, TypeError, ValueError):
        return None


def _release_ref(release: dict[str, Any] | None) -> str | None:
    if release is None:
        return None
    return f"{release.get('vendor')}/{release.get('product')}@{release.get('version')}"


def _label(fact: dict[str, Any]) -> str:
    if fact.get("fact") == facts.RELEASE:
        return "Release withdrawn" if fact.get("state") == "withdrawn" else "Release published"
    label = FACT_LABELS.get(str(fact.get("fact")), "Unknown fact")
    return f"{label} ({fact['kind']})" if fact.get("kind") else label


def _time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _row(entry: LogEntry, size: int) -> Row:
    assert entry.index is not None
    try:
        fact: dict[str, Any] = json.loads(bytes(entry.entry))
    except ValueError:
        fact = {}
    release = fact.get("release") if isinstance(fact.get("release"), dict) else None
    covered = entry.index < size
    return Row(
        index=entry.index,
        fact=entry.fact,
        label=_label(fact),
        release=_release_ref(release),
        release_url=_release_url(release),
        name=fact.get("name") if isinstance(fact.get("name"), str) else None,
        is_file=entry.fact in FACT_LABELS,
        sha256=entry.subject_sha256,
        time=_time(fact.get("time")),
        leaf_hash=entry.leaf_hash,
        entry_url=reverse("api:log-entry", kwargs={"leaf_hash": entry.leaf_hash}),
        receipt_url=(
            reverse("api:log-receipt", kwargs={"leaf_hash": entry.leaf_hash}) if covered else None
        ),
    )


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
    rows = [_row(entry, size) for entry in page[:RECENT]]

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
