"""Facts into the log, and proofs out of it.

Writing: :func:`record_publication` and :func:`record_withdrawal` are called by the catalogue
inside the transaction that changes the release, so a fact exists exactly when its change
does (a transactional outbox). :func:`check_capacity` refuses new facts with 503 when the log's
writer is far behind. The writer (:mod:`.keeper`) gives each entry its index later.

Reading: receipts and lookups are computed by any web process from the public files alone —
the checkpoint and the tiles — exactly as an outside verifier would compute them.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearroom.blobs import ObjectNotFound
from clearroom.server.catalog.models import Artifact, Document, Release, StoredFile
from clearroom.server.catalog.signals import announce
from clearroom.server.errors import Unavailable
from clearroom.server.transparency.identity import public_files, verifier, witnesses
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts
from clearroom.tlog.checkpoint import Checkpoint, Cosignature, open_checkpoint
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.layout import CHECKPOINT_KEY
from clearroom.tlog.merkle import inclusion_proof
from clearroom.tlog.receipt import Receipt
from clearroom.tlog.tiles import TileReader

RETRY_AFTER_SECONDS = 5
new_facts = threading.Event()
"""Set when a transaction that recorded facts commits: the in-process writer wakes at once."""


def _release_ref(release: Release) -> dict[str, str]:
    product = release.product
    return {"vendor": product.vendor.slug, "product": product.slug, "version": release.version}


def _file_fact(stored: StoredFile) -> tuple[str, dict[str, object]]:
    fields: dict[str, object] = {
        "release": _release_ref(stored.release),
        "sha256": stored.sha256,
        "size": stored.size,
        "media_type": stored.media_type,
        "confidentiality": stored.confidentiality,
    }
    if not stored.is_confidential:
        fields["name"] = stored.name
    if isinstance(stored, Document):
        return facts.DOCUMENT, {**fields, "kind": stored.kind}
    return facts.ARTIFACT, fields


def _add(fact: str, release: Release, fields: dict[str, object], **links: object) -> LogEntry:
    fact_id, entry = facts.make_fact(fact, timezone.now(), **fields)
    subject = fields.get("sha256", "")
    return record_entry(
        fact,
        fact_id,
        entry,
        release=release,
        subject_sha256=subject if isinstance(subject, str) else "",
        **links,
    )


def record_entry(
    fact: str,
    fact_id: str,
    entry: bytes,
    *,
    release: Release | None = None,
    subject_sha256: str = "",
    **links: object,
) -> LogEntry:
    """Put a fact built elsewhere (e.g. a signed statement's entry, :mod:`clearroom.attest`)
    in the outbox. Call inside the transaction of the change it states."""
    row = LogEntry.objects.create(
        fact=fact,
        fact_id=fact_id,
        entry=entry,
        entry_sha256=hashlib.sha256(entry).hexdigest(),
        leaf_hash=leaf_hash(entry).hex(),
        release=release,
        subject_sha256=subject_sha256,
        **links,
    )
    transaction.on_commit(new_facts.set)
    announce([release.pk if release else None])  # "M facts about the release, N logged"
    return row


def check_capacity(new: int) -> None:
    """Refuse ``new`` facts while the log's writer is behind by more than the configured
    backlog: the caller changes nothing and retries later."""
    waiting = LogEntry.objects.filter(index__isnull=True).count()
    if waiting + new > settings.CONFIG.tlog_max_backlog:
        raise Unavailable(
            f"the transparency log has {waiting} facts waiting to be logged; nothing was"
            f" changed, try again in {RETRY_AFTER_SECONDS} seconds",
            retry_after=RETRY_AFTER_SECONDS,
            code="log-backlog",
        )


def record_publication(release: Release) -> list[LogEntry]:
    """The release fact (with the digests of everything published) and one fact per file.
    Call inside the publishing transaction."""
    files: list[StoredFile] = [*release.artifacts.all(), *release.documents.all()]
    listing = sorted(
        (
            {"kind": getattr(f, "kind", "artifact"), "sha256": f.sha256, "size": f.size}
            for f in files
        ),
        key=lambda item: (str(item["kind"]), str(item["sha256"])),
    )
    rows = [
        _add(
            facts.RELEASE,
            release,
            {"release": _release_ref(release), "state": "published", "files": listing},
        )
    ]
    for stored in files:
        fact, fields = _file_fact(stored)
        link = {"artifact": stored} if isinstance(stored, Artifact) else {"document": stored}
        rows.append(_add(fact, release, fields, **link))
    return rows


def record_withdrawal(release: Release) -> LogEntry:
    fields = {
        "release": _release_ref(release),
        "state": "withdrawn",
        "files": [],
        "reason": release.withdrawn_reason,
    }
    return _add(facts.RELEASE, release, fields)


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogState:
    note: bytes
    checkpoint: Checkpoint
    cosignatures: tuple[Cosignature, ...]


def log_state() -> LogState | None:
    """The published checkpoint, verified under the log's key; None before the first one."""
    try:
        note = public_files().get(CHECKPOINT_KEY)
    except ObjectNotFound:
        return None
    cosigners = [w.verifier for w in witnesses()]
    checkpoint, cosignatures = open_checkpoint(note, verifier(), cosigners=cosigners)
    return LogState(note, checkpoint, cosignatures)


def receipt(entry: LogEntry, state: LogState | None = None) -> Receipt | None:
    """The C2SP tlog-proof receipt of ``entry`` against the published checkpoint, or None
    while no published checkpoint covers it yet."""
    state = state or log_state()
    if entry.index is None or state is None or entry.index >= state.checkpoint.size:
        return None
    size = state.checkpoint.size
    proof = inclusion_proof(TileReader(public_files(), size), size, entry.index)
    return Receipt(entry.index, tuple(proof), state.note)
