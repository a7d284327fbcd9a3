"""The log entry of a signed statement: the ``clearroom.dev/attestation/v1`` fact that commits
to the exact envelope (its canonical JSON's SHA-256) and says what it is about, so the log
can be searched by subject digest without holding the envelope itself."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from clearroom.attest.dsse import Envelope
from clearroom.attest.statement import Statement
from clearroom.tlog import facts


def envelope_sha256(envelope: Envelope) -> str:
    return hashlib.sha256(envelope.to_json()).hexdigest()


def attestation_entry(
    envelope: Envelope,
    statement: Statement,
    *,
    organisation: str,
    signers: Sequence[str],
    moment: datetime,
    release: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """(fact id, entry bytes) for ``envelope``, whose payload is ``statement`` and whose
    signatures by ``signers`` (keyids) the caller has verified."""
    fields: dict[str, Any] = {
        "organisation": organisation,
        "envelope_sha256": envelope_sha256(envelope),
        "payload_type": envelope.payload_type,
        "predicate_type": statement.predicate_type,
        "subjects": [
            {"name": s.name, "sha256": s.digest["sha256"]}
            for s in statement.subjects
            if "sha256" in s.digest
        ],
        "signers": sorted(signers),
    }
    if release is not None:
        fields["release"] = dict(release)
    return facts.make_fact(facts.ATTESTATION, moment, **fields)
