"""A generic signed claim: someone (``claimant``) states ``claim`` about the subjects, with
optional structured ``details`` — for facts that have no dedicated predicate yet (a lab's
"tested against EN 18031-1", a customer's "deployed on 2026-03-01").

Example::

    statement = make_claim([Subject("fw.bin", {"sha256": digest})], "passed penetration test",
                           {"report": "https://lab.example/r/17"}, claimant="https://lab.example")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates._common import Fields
from clearroom.attest.predicates.types import CLAIM
from clearroom.attest.statement import Statement, Subject


def validate_claim(predicate: Mapping[str, Any]) -> None:
    """``claimant`` and ``claim`` are non-empty strings; ``details``, if present, an object."""
    doc = Fields("claim", predicate, "predicate")
    doc.text("claimant")
    doc.text("claim")
    doc.obj("details", required=False)


def make_claim(
    subjects: Sequence[Subject],
    claim: str,
    details: Mapping[str, Any] | None = None,
    *,
    claimant: str,
) -> Statement:
    if not subjects:
        raise StatementError("claim: a claim needs at least one subject")
    predicate: dict[str, Any] = {"claimant": claimant, "claim": claim}
    if details is not None:
        predicate["details"] = dict(details)
    validate_claim(predicate)
    return Statement(tuple(subjects), CLAIM, predicate)
