"""The centre's release status: "as of ``asOf``, with the log at ``logSize``, this release was
published" (or withdrawn, and why). The centre signs one when a release is published, at once
when it is withdrawn, and again on a schedule; every bundle carries the newest.

Why a signed, dated status and not only the publication and withdrawal facts: a bundle is not
signed as a whole, so whoever hands one over can leave a withdrawal fact out. A status is
signed by the centre and has a date, so an offline verifier can demand one that is recent
enough (``release.max_status_age``): a hidden withdrawal then lasts at most that long.

Predicate (``https://clearroom.dev/release-status/v1``)::

    {"release": {"vendor": "acme", "product": "router", "version": "2.4.1"},
     "state": "published" | "withdrawn", "asOf": "2026-01-01T00:00:00Z", "logSize": 42,
     "keyEvents": {"acme": 2, "lab": 3},
     "reason": "…"}          # withdrawn only

``keyEvents`` counts, for the vendor and each organisation that signed a statement about the
release, its key events logged before ``logSize``: a bundle that leaves one out (a revocation)
is caught like a withdrawal left out.

The subject is the release itself: name ``release:vendor/product@version``, digest the SHA-256
of the release object's canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates.types import RELEASE_STATUS
from clearroom.attest.statement import Statement, Subject

State = Literal["published", "withdrawn"]
_RELEASE_KEYS = ("vendor", "product", "version")


def release_subject(release: dict[str, str]) -> Subject:
    """The in-toto subject naming a release: its reference and the digest of it."""
    canonical = json.dumps(release, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    name = f"release:{release['vendor']}/{release['product']}@{release['version']}"
    return Subject(name, {"sha256": hashlib.sha256(canonical.encode()).hexdigest()})


@dataclass(frozen=True)
class ReleaseStatus:
    release: dict[str, str]
    state: State
    as_of: datetime
    log_size: int
    reason: str = ""
    key_events: dict[str, int] = field(default_factory=dict)

    def to_statement(self) -> Statement:
        predicate: dict[str, Any] = {
            "release": dict(self.release),
            "state": self.state,
            "asOf": self.as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "logSize": self.log_size,
            "keyEvents": dict(self.key_events),
        }
        if self.state == "withdrawn":
            predicate["reason"] = self.reason
        statement = Statement((release_subject(self.release),), RELEASE_STATUS, predicate)
        ReleaseStatus.from_statement(statement)  # one place decides what a valid status is
        return statement

    @classmethod
    def from_statement(cls, statement: Statement) -> ReleaseStatus:
        if statement.predicate_type != RELEASE_STATUS:
            raise StatementError(f"release status: predicate type is not {RELEASE_STATUS}")
        p = statement.predicate
        release = p.get("release")
        if (
            not isinstance(release, dict)
            or sorted(release) != sorted(_RELEASE_KEYS)
            or not all(isinstance(release[k], str) and release[k] for k in _RELEASE_KEYS)
        ):
            raise StatementError(
                "release status: predicate.release needs exactly vendor, product and version"
            )
        state = p.get("state")
        if state not in ("published", "withdrawn"):
            raise StatementError("release status: predicate.state must be published or withdrawn")
        as_of = _time(p.get("asOf"))
        size = p.get("logSize")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise StatementError("release status: predicate.logSize must be a whole number ≥ 0")
        reason = p.get("reason", "")
        if not isinstance(reason, str):
            raise StatementError("release status: predicate.reason must be a string")
        key_events = p.get("keyEvents", {})
        if not isinstance(key_events, dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 and org
            for org, n in key_events.items()
        ):
            raise StatementError(
                "release status: predicate.keyEvents maps organisations to whole numbers ≥ 0"
            )
        if [s.digest for s in statement.subjects] != [release_subject(release).digest]:
            raise StatementError("release status: the subject must be the release it states")
        return cls(dict(release), state, as_of, size, reason, dict(key_events))


def _time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise StatementError("release status: predicate.asOf must be a UTC time")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise StatementError(
            f"release status: predicate.asOf {text!r} is not YYYY-MM-DDTHH:MM:SSZ"
        ) from None
