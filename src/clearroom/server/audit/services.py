"""Write audit events. Call :func:`record` for every access to confidential material and every
denied attempt; the request id ties an event to the service's logs."""

from __future__ import annotations

import logging
from typing import Any

from clearroom.server.audit.models import AuditEvent
from clearroom.server.authz import Actor
from clearroom.server.ops.logging import request_id_var

log = logging.getLogger("clearroom.audit")


def record(
    actor: Actor,
    action: str,
    *,
    allowed: bool,
    target: str,
    organisation: Any = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent.objects.create(
        action=action,
        outcome=AuditEvent.Outcome.ALLOWED if allowed else AuditEvent.Outcome.DENIED,
        actor=actor.user if actor.is_authenticated else None,
        token_key_id=actor.token.key_id if actor.token else "",
        organisation=organisation,
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
