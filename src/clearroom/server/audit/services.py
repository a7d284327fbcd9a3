"""Write, seal, read and verify the audit trail.

:func:`record` is called for every access to confidential material and every refused attempt
(the request id ties an event to the service's logs). :func:`seal` puts the records written
since the last batch under a Merkle root and logs the root (:mod:`.chain`); the log's writer
calls it every ``audit_seal_seconds``. :func:`verify` recomputes every sealed batch from the
stored rows and checks it against the log - what ``clearroom audit verify`` runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clearroom.server.accounts.models import Organisation
from clearroom.server.audit import chain
from clearroom.server.audit.models import AuditBatch, AuditEvent
from clearroom.server.authz import Actor
from clearroom.server.ops.logging import request_id_var
from clearroom.tlog import facts
from clearroom.tlog.errors import TlogError

log = logging.getLogger("clearroom.audit")


def _acting_for(actor: Actor) -> Organisation | None:
    """The organisation the actor acts for: the token's, else their first membership's."""
    if actor.token is not None:
        return actor.token.organisation
    member_of = sorted(actor.memberships())
    return Organisation.objects.filter(pk=member_of[0]).first() if member_of else None


def record(
    actor: Actor,
    action: str,
    *,
    allowed: bool,
    target: str,
    organisation: Organisation | None = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """One event. ``organisation`` owns the material; ``details`` hold no floats (the sealed
    form is canonical JSON)."""
    acting = _acting_for(actor)
    event = AuditEvent.objects.create(
        action=action,
        outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
        actor=actor.user if actor.is_authenticated else None,
        actor_name=actor.user.get_username() if actor.is_authenticated else "",  # type: ignore[union-attr]
        token_key_id=actor.token.key_id if actor.token else "",
        organisation=organisation,
        organisation_slug=organisation.slug if organisation else "",
        actor_organisation=acting,
        actor_organisation_slug=acting.slug if acting else "",
        target=target[:500],
        ip=ip,
        request_id=request_id_var.get(),
        details=details,
    )
    log.log(
        logging.INFO if allowed else logging.WARNING,
        "audit %s %s %s",
        action,
        event.outcome,
        target,
        extra={"audit_action": action, "outcome": event.outcome, "target": target},
    )
    return event


REFUSAL_WINDOW = timedelta(minutes=10)
REFUSAL_TARGETS = 20
"""A signed-in actor's "not found" answers of one kind are kept as one record per window,
counting every attempt and naming the first distinct targets (a scanner sends thousands)."""


def record_refusal(
    actor: Actor,
    action: str,
    *,
    kind: str,
    target: str,
    organisation: Organisation | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """A refused attempt answered "not found": the first of a window is a new record; later
    ones by the same actor (user and token, or no one), from the same address, of the same
    ``kind`` (what the URL named: a release, an evaluation, a confidential file, ...) about the
    same owner add to its ``count`` and ``targets`` and set ``last_at`` - until the record is
    sealed, after which the next attempt starts a new one. Nothing is lost: every attempt is
    counted, and each is still in the service's log with its request id."""
    now = timezone.now()
    with transaction.atomic():
        # locked against seal(), which locks what it seals: a sealed record never changes
        open_record = (
            AuditEvent.objects.select_for_update()
            .filter(
                batch__isnull=True,
                outcome=AuditEvent.Outcome.DENIED,
                action=action,
                actor=actor.user if actor.is_authenticated else None,
                token_key_id=actor.token.key_id if actor.token else "",
                organisation=organisation,
                ip=ip,
                time__gte=now - REFUSAL_WINDOW,
                details__kind=kind,
            )
            .order_by("-id")
            .first()
        )
        if open_record is None:
            return record(
                actor,
                action,
                allowed=False,
                target=target,
                organisation=organisation,
                ip=ip,
                kind=kind,
                count=1,
                targets=[target[:500]],
                last_at=now.isoformat(),
            )
        details = dict(open_record.details)
        details["count"] = int(details.get("count", 1)) + 1
        targets = list(details.get("targets", []))
        if target[:500] not in targets and len(targets) < REFUSAL_TARGETS:
            targets.append(target[:500])
        details["targets"] = targets
        details["last_at"] = now.isoformat()
        open_record.details = details
        open_record.save(update_fields=["details"])
    log.warning(
        "audit %s denied %s (%d in this window)",
        action,
        target,
        details["count"],
        extra={"audit_action": action, "outcome": "denied", "target": target},
    )
    return open_record


# -- sealing ------------------------------------------------------------------------------------


def seal(*, batch_size: int | None = None) -> list[AuditBatch]:
    """Seal every record written since the last batch, ``batch_size`` per batch; each batch's
    root goes to the log in the same transaction. Run by one process at a time (the log's
    writer); returns the new batches."""
    from clearroom.server.transparency import services as log_service

    size = batch_size or settings.CONFIG.audit_batch_size
    made: list[AuditBatch] = []
    while True:
        with transaction.atomic():
            unsealed = AuditEvent.objects.select_for_update().filter(batch__isnull=True)
            rows = list(unsealed.order_by("id")[:size])
            if not rows:
                return made
            last = AuditBatch.objects.order_by("-sequence").first()
            sealed = chain.seal([r.canonical() for r in rows])
            fields = {
                "sequence": (last.sequence + 1) if last else 1,
                "count": len(rows),
                "first": rows[0].pk,
                "last": rows[-1].pk,
                "root": sealed.root,
                "previous": last.root if last else "",
            }
            fact_id, entry = facts.make_fact(facts.AUDIT_BATCH, timezone.now(), **fields)
            logged = log_service.record_entry(facts.AUDIT_BATCH, fact_id, entry)
            batch = AuditBatch.objects.create(log_entry=logged, **fields)
            AuditEvent.objects.filter(pk__in=[r.pk for r in rows]).update(batch=batch)
            made.append(batch)


# -- reading -------------------------------------------------------------------------------------


def trail(organisation: Organisation) -> QuerySet[AuditEvent]:
    """What an organisation may see of the trail: events about its material and events of its
    own members' actions, newest first."""
    return AuditEvent.objects.filter(
        Q(organisation=organisation) | Q(actor_organisation=organisation)
    ).order_by("-id")


def export(events: QuerySet[AuditEvent]) -> dict[str, Any]:
    """Events in their sealed form, with what a third party needs to check them without the
    centre's database: each event's position and inclusion proof in its batch, and each batch's
    logged fact with its receipt (C2SP tlog-proof) against the log's signed checkpoint."""
    from clearroom.server.transparency import services as log_service
    from clearroom.server.transparency.identity import verifier

    state = log_service.log_state()
    sealed: dict[int, tuple[AuditBatch, chain.Sealed, dict[int, int]]] = {}
    out: list[dict[str, Any]] = []
    for event in events.select_related("batch__log_entry").iterator(chunk_size=2000):
        item: dict[str, Any] = {"record": event.canonical(), "batch": None}
        batch = event.batch
        if batch is not None:
            if batch.sequence not in sealed:
                members = list(batch.events.order_by("id"))
                tree = chain.seal([m.canonical() for m in members], with_proofs=True)
                sealed[batch.sequence] = (batch, tree, {m.pk: i for i, m in enumerate(members)})
            _, tree, positions = sealed[batch.sequence]
            position = positions[event.pk]
            item["batch"] = {
                "sequence": batch.sequence,
                "position": position,
                "proof": [h.hex() for h in tree.proofs[position]],
            }
        out.append(item)
    batches = {}
    for sequence, (batch, _, _) in sorted(sealed.items()):
        receipt = log_service.receipt(batch.log_entry, state)
        batches[str(sequence)] = {
            "count": batch.count,
            "root": batch.root,
            "log_entry": bytes(batch.log_entry.entry).decode(),
            "receipt": receipt.to_text() if receipt else None,
        }
    return {
        "format": "clearroom.dev/audit-export/v1",
        "exported_at": timezone.now().isoformat(),
        "log": {"origin": verifier().name, "verifier_key": verifier().to_key()},
        "batches": batches,
        "events": out,
    }


# -- verifying ----------------------------------------------------------------------------------


@dataclass
class Verification:
    batches: int = 0
    records: int = 0
    unsealed: int = 0
    not_yet_logged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> Verification:
    """Recompute every sealed batch from the stored records; check the chain of roots, the
    logged fact of each batch and that fact's inclusion in the log's signed checkpoint."""
    from clearroom.server.transparency import services as log_service
    from clearroom.server.transparency.identity import verifier
    from clearroom.tlog.receipt import verify_receipt

    result = Verification()
    state = log_service.log_state()
    previous = ""
    expected = 1
    for batch in AuditBatch.objects.select_related("log_entry").order_by("sequence"):
        result.batches += 1
        where = f"batch {batch.sequence}"
        if batch.sequence != expected:
            result.problems.append(f"{where}: expected batch {expected} (a batch is missing)")
        expected = batch.sequence + 1
        rows = list(batch.events.order_by("id"))
        result.records += len(rows)
        entry = bytes(batch.log_entry.entry)
        try:
            logged = facts.parse_fact(entry)
        except TlogError as exc:
            result.problems.append(f"{where}: its log entry is not a valid fact ({exc})")
            continue
        root = chain.seal([r.canonical() for r in rows]).root if rows else ""
        if root != logged.get("root") or len(rows) != logged.get("count"):
            result.problems.append(
                f"{where}: the stored records ({len(rows)}, ids {rows[0].pk if rows else '-'}-"
                f"{rows[-1].pk if rows else '-'}) do not hash to the logged root: a record was"
                f" changed, added or deleted (logged {logged.get('count')} records,"
                f" ids {logged.get('first')}-{logged.get('last')})"
            )
        if logged.get("previous") != previous or logged.get("sequence") != batch.sequence:
            result.problems.append(f"{where}: does not follow the batch before it")
        previous = str(logged.get("root", ""))
        try:
            receipt = log_service.receipt(batch.log_entry, state)
            if receipt is None:
                result.not_yet_logged += 1
                continue
            verify_receipt(receipt, entry, verifier())
        except TlogError as exc:
            result.problems.append(f"{where}: its fact is not in the log as claimed ({exc})")
    if state is not None:
        stored = dict(AuditBatch.objects.values_list("sequence", "root"))
        for sequence, root in logged_batches(state.checkpoint.size).items():
            if stored.get(sequence) != root:
                result.problems.append(
                    f"batch {sequence} is in the log (root {root[:16]}…) but not in the"
                    " database as logged: it was deleted or replaced"
                )
    result.unsealed = AuditEvent.objects.filter(batch__isnull=True).count()
    return result


def logged_batches(size: int) -> dict[int, str]:
    """Sequence -> root of every audit batch fact among the log's first ``size`` entries,
    read from the public log itself (what the database says does not count here)."""
    from clearroom.server.transparency.identity import public_files
    from clearroom.tlog.bundles import read_entries

    marker = b'"fact":"' + facts.AUDIT_BATCH.encode() + b'"'
    found: dict[int, str] = {}
    for entry in read_entries(public_files(), size, 0, size):
        if marker in entry:
            fact = facts.parse_fact(entry)
            found[int(fact["sequence"])] = str(fact["root"])
    return found
