"""The log's single writer inside Clearroom: moves facts from the outbox (:class:`LogEntry` rows
without an index) into the :class:`~clearroom.tlog.sequencer.Sequencer`, and records the index
each one got.

Why this shape: facts are committed with the change they state, in the service's database; the
log is a separate, append-only store. Only one process may write the log — the sequencer's
file lock decides which, so every ``clearroom serve`` worker can try and exactly one wins (the
others retry, and take over when it stops). A crash between the log making entries durable and
the database recording their indexes is repaired at start: the entries past the highest index
the database knows are read back from the log and matched to their rows by their hash (each
entry carries a unique id, so the match is exact).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from clearroom.errors import ClearroomError
from clearroom.server.audit import services as audit
from clearroom.server.audit.models import AuditEvent
from clearroom.server.catalog.signals import announce
from clearroom.server.pagecache import generation
from clearroom.server.transparency.identity import public_files, signer, witnesses
from clearroom.server.transparency.models import LogEntry
from clearroom.server.transparency.services import new_facts
from clearroom.tlog import facts
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.sequencer import LogLocked, Pushback, Sequencer, SequencerOptions
from clearroom.tlog.witness_client import CheckpointCosigner

_log = logging.getLogger(__name__)
BATCH = 1000
"""Outbox rows handed to the sequencer at once."""
RETRY_SECONDS = 5.0
"""Wait before trying again to take the log's lock, or after a failure."""
STATUS_CHECK_SECONDS = 60.0
"""How often the writer looks for release statuses due to be re-signed."""


class LogKeeper:
    """``start()`` runs the writer on a daemon thread; ``run()`` runs it in the caller's thread
    (``clearroom log run``); ``stop()`` ends either after the current batch."""

    def __init__(self, *, poll_seconds: float = 0.5, options: SequencerOptions | None = None):
        self._poll = poll_seconds
        self._options = options or SequencerOptions(batch_wait=0.1)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._cosigner: CheckpointCosigner | None = None
        self._next_seal = 0.0
        self._next_status = 0.0
        self._announced = -1
        """The checkpoint size the page cache was last told of."""
        self.is_writer = threading.Event()
        """Set while this process holds the log's lock."""

    def start(self) -> LogKeeper:
        self._thread = threading.Thread(target=self.run, name="clearroom-log", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        new_facts.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._write_while_holding_the_lock()
                except Exception:  # noqa: BLE001 - logged; a dead writer would be silent
                    _log.exception("the log's writer failed; starting again in %ss", RETRY_SECONDS)
                    connection.close()
                    self._stopping.wait(RETRY_SECONDS)
        finally:
            connection.close()

    def _write_while_holding_the_lock(self) -> None:
        sequencer = self.open_sequencer()
        if sequencer is None:
            self._stopping.wait(RETRY_SECONDS)
            return
        try:
            self.is_writer.set()
            self._reconcile(sequencer)
            while not self._stopping.is_set():
                self.seal_audit_when_due()
                self.refresh_release_status_when_due()
                self._announce_checkpoint(sequencer)
                if not self.pump(sequencer):
                    new_facts.wait(self._poll)
                    new_facts.clear()
        finally:
            self.is_writer.clear()
            sequencer.close()

    def _announce_checkpoint(self, sequencer: Sequencer) -> None:
        """A new checkpoint makes receipts available on public pages, which the database does
        not show: replace the page cache's generation."""
        if sequencer.size != self._announced:
            generation.bump()
            self._announced = sequencer.size

    def seal_audit_when_due(self) -> None:
        """Seal the audit records every ``audit_seal_seconds``, or at once when a full batch
        waits: the batches' roots then go to the log with the next pump."""
        config = settings.CONFIG
        now = time.monotonic()
        waiting = AuditEvent.objects.filter(batch__isnull=True).order_by("id")
        full = waiting[config.audit_batch_size - 1 : config.audit_batch_size].exists()
        if now < self._next_seal and not full:
            return
        self._next_seal = now + config.audit_seal_seconds
        audit.seal()

    def refresh_release_status_when_due(self) -> None:
        """Re-sign the centre's release statuses that are due (a batch at a time, back at once
        while more wait). A failure (the centre's key on a token that is away) is logged and
        retried later; it never stops the log."""
        from clearroom.server.attestations.status import REFRESH_BATCH, refresh_statuses

        now = time.monotonic()
        if now < self._next_status:
            return
        try:
            done = refresh_statuses()
        except Exception:  # noqa: BLE001 - logged; the log keeps being written
            _log.exception("re-signing release statuses failed; trying again later")
            done = 0
        self._next_status = now if done >= REFRESH_BATCH else now + STATUS_CHECK_SECONDS

    def open_sequencer(self) -> Sequencer | None:
        """Become the log's writer: the sequencer, or None while another process holds it."""
        config = settings.CONFIG
        if self._cosigner is None and witnesses():
            self._cosigner = CheckpointCosigner(
                witnesses(),
                public_files(),
                min_cosignatures=config.tlog_min_cosignatures,
                stopping=self._stopping,
            )
        try:
            return Sequencer(
                config.tlog_dir / "sequence",
                public_files(),
                signer(),
                options=self._options,
                cosign=self._cosigner,
                on_checkpoint=lambda start, note: new_facts.set(),  # wakes the loop
            )
        except LogLocked:
            _log.debug("another process writes the log; trying again in %ss", RETRY_SECONDS)
            return None

    def pump(self, sequencer: Sequencer) -> int:
        """Sequence one batch of waiting facts; returns how many."""
        rows = list(
            LogEntry.objects.filter(index__isnull=True)
            .order_by("id")
            .values_list("pk", "entry", "release_id")[:BATCH]
        )
        if not rows:
            return 0
        try:
            indexes = sequencer.add_many([bytes(entry) for _, entry, _ in rows])
        except Pushback as exc:
            self._stopping.wait(exc.retry_after)
            return 0
        now = timezone.now()
        with transaction.atomic():
            for (pk, _, _), index in zip(rows, indexes, strict=True):
                LogEntry.objects.filter(pk=pk).update(index=index, sequenced_at=now)
        announce(release for _, _, release in rows)  # after: never undoes the indexes
        return len(rows)

    def _reconcile(self, sequencer: Sequencer) -> None:
        """Record the indexes of entries the log made durable just before a crash."""
        known = LogEntry.objects.aggregate(top=Max("index"))["top"]
        start = 0 if known is None else known + 1
        if sequencer.sequenced < start:
            raise ClearroomError(
                f"log: the database records index {known} but the log in"
                f" {settings.CONFIG.tlog_dir} holds {sequencer.sequenced} entries; the log"
                " folder does not belong to this database"
            )
        now = timezone.now()
        for index, entry in enumerate(sequencer.entries(start, sequencer.sequenced), start):
            digest = hashlib.sha256(entry).hexdigest()
            updated = LogEntry.objects.filter(entry_sha256=digest, index__isnull=True).update(
                index=index, sequenced_at=now
            )
            if not updated:
                _adopt(index, entry, now)
        if sequencer.sequenced > start:
            _log.warning("log: recorded %d index(es) lost in a crash", sequencer.sequenced - start)


def _adopt(index: int, entry: bytes, now: Any) -> None:
    """An entry the log holds but the database lost (restored from an older backup): keep it
    findable, loudly. The log is the record; the database only indexes it."""
    fact = facts.parse_fact(entry)
    _log.error("log: entry %d (%s %s) is unknown to the database", index, fact["fact"], fact["id"])
    LogEntry.objects.create(
        fact=fact["fact"],
        fact_id=fact["id"],
        entry=entry,
        entry_sha256=hashlib.sha256(entry).hexdigest(),
        leaf_hash=leaf_hash(entry).hex(),
        index=index,
        subject_sha256=fact.get("sha256", ""),
        sequenced_at=now,
    )
