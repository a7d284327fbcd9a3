"""The transparency log, read side: its state and key, each fact's entry and receipt, lookups by
entry hash and by file digest, and proofs by index. Everything here is public and computed from
the published checkpoint and tiles, as an outside verifier would compute it; the tiles
themselves are served as static files under ``/log/``."""

from __future__ import annotations

import base64
import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema

from clearroom.server.api.schemas import ConsistencyOut, LogEntryOut, LogOut, Problem, ProofOut
from clearroom.server.api.serializers import log_entry_out
from clearroom.server.authz import Permission
from clearroom.server.authz.routes import Allow
from clearroom.server.errors import Invalid, NotFound, Unavailable
from clearroom.server.transparency import services as log
from clearroom.server.transparency.identity import public_files, verifier, witnesses
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog.merkle import consistency_proof, inclusion_proof
from clearroom.tlog.tiles import TileReader

router = Router(tags=["transparency log"], auth=Allow(Permission.PUBLIC_READ))
"""Everything about the log is public."""
_HEX64 = re.compile(r"[0-9a-f]{64}")
LOOKUP_LIMIT = 100


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _hex(value: str, what: str) -> str:
    value = value.lower()
    if not _HEX64.fullmatch(value):
        raise Invalid(f"{what}: give 64 hexadecimal digits (a SHA-256)")
    return value


def _published_size() -> int:
    state = log.log_state()
    return 0 if state is None else state.checkpoint.size


@router.get("/log", response=LogOut, url_name="log", summary="The log's state and verifier key")
def log_info(request: HttpRequest) -> Any:
    state = log.log_state()
    return {
        "origin": verifier().name,
        "verifier_key": verifier().to_key(),
        "size": state.checkpoint.size if state else 0,
        "root_hash": base64.b64encode(state.checkpoint.root_hash).decode() if state else None,
        "checkpoint": state.note.decode() if state else None,
        "cosignatures": [
            {"name": c.name, "key_id": f"{c.key_id:08x}", "timestamp": c.timestamp}
            for c in (state.cosignatures if state else ())
        ],
        "witnesses": [{"url": w.url, "verifier_key": w.verifier.to_key()} for w in witnesses()],
        "waiting": LogEntry.objects.filter(index__isnull=True).count(),
        "tiles_url": request.build_absolute_uri(reverse("portal:log")),
    }


class Lookup(Schema):
    hash: str | None = None
    """The entry's RFC 6962 leaf hash or the SHA-256 of its bytes."""
    sha256: str | None = None
    """The SHA-256 of a published file: every fact about it."""
    index: int | None = None


def _lookup(query: Lookup) -> QuerySet[LogEntry]:
    rows = LogEntry.objects.select_related("release__product__vendor")
    if query.hash is not None:
        digest = _hex(query.hash, "hash")
        return rows.filter(Q(leaf_hash=digest) | Q(entry_sha256=digest))
    if query.sha256 is not None:
        return rows.filter(subject_sha256=_hex(query.sha256, "sha256"))
    if query.index is not None:
        return rows.filter(index=query.index)
    raise Invalid("give one of hash (an entry's hash), sha256 (a file's digest) or index")


@router.get(
    "/log/entries",
    response={200: list[LogEntryOut], 422: Problem},
    url_name="log-entries",
    summary="Find entries by entry hash, by file digest or by index",
)
def find_entries(request: HttpRequest, query: Query[Lookup]) -> Any:
    state = log.log_state()
    rows = _lookup(query).order_by("index", "id")[:LOOKUP_LIMIT]
    return [log_entry_out(row, log.receipt(row, state)) for row in rows]


def _entry(leaf_hash: str) -> LogEntry:
    digest = _hex(leaf_hash, "leaf_hash")
    row = (
        LogEntry.objects.select_related("release__product__vendor")
        .filter(Q(leaf_hash=digest) | Q(entry_sha256=digest))
        .first()
    )
    if row is None:
        raise NotFound(f"no log entry has the hash {digest}")
    return row


@router.get(
    "/log/entries/{leaf_hash}",
    response={200: LogEntryOut, 404: Problem, 422: Problem},
    url_name="log-entry",
    summary="One entry, with its receipt once a checkpoint covers it",
)
def get_entry(request: HttpRequest, leaf_hash: str) -> Any:
    row = _entry(leaf_hash)
    return log_entry_out(row, log.receipt(row))


@router.get(
    "/log/entries/{leaf_hash}/receipt",
    response={200: None, 404: Problem, 422: Problem, 503: Problem},
    url_name="log-receipt",
    summary="The entry's offline receipt (C2SP tlog-proof), as text",
)
def get_receipt(request: HttpRequest, leaf_hash: str) -> Any:
    row = _entry(leaf_hash)
    receipt = log.receipt(row)
    if receipt is None:
        raise Unavailable(
            "this fact is committed but no published checkpoint covers it yet", retry_after=1
        )
    response = HttpResponse(receipt.to_text(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="entry-{row.index}.tlog-proof"'
    return response


def _check_size(size: int, limit: int, what: str) -> None:
    if not 0 < size <= limit:
        raise Invalid(f"{what} must be between 1 and {limit}, not {size}")


@router.get(
    "/log/proof/{index}",
    response={200: ProofOut, 422: Problem},
    summary="Inclusion proof of entry INDEX in the tree of size tree_size (default: latest)",
)
def prove_inclusion(request: HttpRequest, index: int, tree_size: int | None = None) -> Any:
    published = _published_size()
    size = published if tree_size is None else tree_size
    _check_size(size, published, "tree_size (at most the published size)")
    if not 0 <= index < size:
        raise Invalid(f"index {index} is not in the tree of size {size}")
    proof = inclusion_proof(TileReader(public_files(), size), size, index)
    return {"index": index, "tree_size": size, "hashes": _b64(proof)}


@router.get(
    "/log/consistency",
    response={200: ConsistencyOut, 422: Problem},
    summary="Consistency proof between two tree sizes (new_size default: latest)",
)
def prove_consistency(request: HttpRequest, old_size: int, new_size: int | None = None) -> Any:
    published = _published_size()
    new = published if new_size is None else new_size
    _check_size(new, published, "new_size (at most the published size)")
    _check_size(old_size, new, "old_size (at most new_size)")
    proof = consistency_proof(TileReader(public_files(), new), old_size, new)
    return {"old_size": old_size, "new_size": new, "hashes": _b64(proof)}
