"""An organisation's signing keys, as a history anyone can replay from the log.

Why a replayed history: "was this key valid when it signed?" must be answerable offline, by
someone who trusts neither the vendor's web site nor the centre's database. Every key event is
a signed in-toto statement (predicate ``https://clearroom.dev/key-event/v1``) appended to the
log; replaying the events in log order gives every key's validity. The rules:

- **add** introduces a key. It must be signed by the new key itself (proof of possession) and
  by an *authoriser*: a key of the organisation valid at that point (a rotation: the new key is
  introduced under the old one's signature), or a key of the centre (the centre vouches for the
  first key of a vendor it vetted, or for recovery after a loss).
  The registration of a key the verifier already trusts as a root is accepted as it stands
  (the root stays trusted from the start; its later revocation is followed).
- **revoke** ends a key. It must be signed by a key of the organisation valid at that point (the
  revoked key may sign its own revocation) or by the centre.
- A signature logged at index ``i`` with log time ``t`` is by a valid key when the key was added
  (or is a trust root) before ``i``, was not revoked before ``i``, and ``valid_from <= t`` and
  ``t < valid_until``. Log order, not a claimed time, decides "before": a revoked key cannot
  backdate a signature past its revocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from clearroom.attest.dsse import Envelope, verify_envelope
from clearroom.attest.errors import AttestError, EnvelopeError, StatementError
from clearroom.attest.keys import PublicKey
from clearroom.attest.predicates import KEY_EVENT
from clearroom.attest.statement import PAYLOAD_TYPE, Statement, Subject

Action = Literal["add", "revoke"]


class KeyNotValid(AttestError):
    """A signature is by a key that was unknown, revoked, or outside its validity window."""


class RegistryError(AttestError):
    """A key event breaks the registry's rules (not authorised, not signed by the new key)."""


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any, what: str) -> datetime:
    if not isinstance(text, str):
        raise StatementError(f"key event: {what} is not an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StatementError(f"key event: {what} {text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise StatementError(f"key event: {what} must carry a time zone (Z)")
    return moment


@dataclass(frozen=True)
class KeyEvent:
    organisation: str
    action: Action
    key: PublicKey
    valid_from: datetime
    valid_until: datetime | None = None
    reason: str = ""

    def to_statement(self) -> Statement:
        predicate: dict[str, Any] = {
            "organisation": self.organisation,
            "action": self.action,
            "key": {
                "keyid": self.key.keyid,
                "algorithm": self.key.algorithm,
                "publicKey": self.key.to_pem(),
            },
            "validFrom": rfc3339(self.valid_from),
        }
        if self.valid_until is not None:
            predicate["validUntil"] = rfc3339(self.valid_until)
        if self.reason:
            predicate["reason"] = self.reason
        subject = Subject(f"key:{self.key.keyid}", {"sha256": self.key.keyid})
        return Statement((subject,), KEY_EVENT, predicate)

    @classmethod
    def from_statement(cls, statement: Statement) -> KeyEvent:
        if statement.predicate_type != KEY_EVENT:
            raise StatementError(f"key event: predicate type is not {KEY_EVENT}")
        p = statement.predicate
        key_doc = p.get("key")
        if not isinstance(key_doc, dict) or not isinstance(key_doc.get("publicKey"), str):
            raise StatementError("key event: 'key' needs a PEM 'publicKey'")
        key = PublicKey.from_pem(key_doc["publicKey"])
        if key_doc.get("keyid") != key.keyid:
            raise StatementError("key event: 'keyid' is not the SHA-256 of the public key")
        if [s.digest.get("sha256") for s in statement.subjects] != [key.keyid]:
            raise StatementError("key event: the subject must be the key itself")
        action = p.get("action")
        if action not in ("add", "revoke"):
            raise StatementError("key event: 'action' must be 'add' or 'revoke'")
        organisation = p.get("organisation")
        if not isinstance(organisation, str) or not organisation:
            raise StatementError("key event: 'organisation' is missing")
        until = p.get("validUntil")
        return cls(
            organisation,
            action,
            key,
            parse_time(p.get("validFrom"), "validFrom"),
            None if until is None else parse_time(until, "validUntil"),
            str(p.get("reason", "")),
        )


@dataclass(frozen=True)
class Logged:
    """A signed envelope at its place in the log: ``time`` is the log entry's (the centre's
    clock when it logged it), ``index`` its position."""

    envelope: Envelope
    index: int
    time: datetime


@dataclass
class KeyStatus:
    key: PublicKey
    added_index: int
    """-1 for a trust root."""
    valid_from: datetime | None
    valid_until: datetime | None
    authorised_by: str
    """keyid of the key that introduced it ("root" for a trust root)."""
    revoked_index: int | None = None
    revoked_reason: str = ""

    def problem_at(self, index: int, moment: datetime) -> str | None:
        """Why a signature logged at (``index``, ``moment``) is not valid; None if it is."""
        if index <= self.added_index:
            return f"key {self.key.keyid[:16]} was registered only after this signature"
        if self.revoked_index is not None and self.revoked_index < index:
            return f"key {self.key.keyid[:16]} was revoked (log entry {self.revoked_index})" + (
                f": {self.revoked_reason}" if self.revoked_reason else ""
            )
        if self.valid_from is not None and moment < self.valid_from:
            return f"key {self.key.keyid[:16]} was not valid before {rfc3339(self.valid_from)}"
        if self.valid_until is not None and moment >= self.valid_until:
            return f"key {self.key.keyid[:16]} expired at {rfc3339(self.valid_until)}"
        return None


@dataclass
class KeyRegistry:
    """Replay key events (in log order) to know which key was valid when."""

    organisation: str
    centre_keys: Sequence[PublicKey] = ()
    keys: dict[str, KeyStatus] = field(default_factory=dict)

    @classmethod
    def replay(
        cls,
        organisation: str,
        events: Iterable[Logged],
        *,
        roots: Sequence[PublicKey] = (),
        centre_keys: Sequence[PublicKey] = (),
    ) -> KeyRegistry:
        registry = cls(organisation, centre_keys)
        for root in roots:
            registry.keys[root.keyid] = KeyStatus(root, -1, None, None, "root")
        for logged in sorted(events, key=lambda e: e.index):
            registry.apply(logged)
        return registry

    def valid_keys(self, index: int, moment: datetime) -> list[PublicKey]:
        return [s.key for s in self.keys.values() if s.problem_at(index, moment) is None]

    def check(self, keyid: str, index: int, moment: datetime) -> None:
        status = self.keys.get(keyid)
        if status is None:
            raise KeyNotValid(f"key {keyid[:16]} is not a registered key of {self.organisation}")
        problem = status.problem_at(index, moment)
        if problem is not None:
            raise KeyNotValid(problem)

    def apply(self, logged: Logged) -> KeyEvent:
        """Check one logged event against the registry so far, then record it."""
        if logged.envelope.payload_type != PAYLOAD_TYPE:
            raise RegistryError(f"key event: payload type is not {PAYLOAD_TYPE}")
        event = KeyEvent.from_statement(Statement.parse(logged.envelope.payload))
        if event.organisation != self.organisation:
            raise RegistryError(
                f"key event is for {event.organisation!r}, not {self.organisation!r}"
            )
        authorisers = [*self.valid_keys(logged.index, logged.time), *self.centre_keys]
        if event.action == "add":
            self._add(event, logged, authorisers)
        else:
            self._revoke(event, logged, authorisers)
        return event

    def _add(self, event: KeyEvent, logged: Logged, authorisers: list[PublicKey]) -> None:
        known = self.keys.get(event.key.keyid)
        if known is not None and known.authorised_by == "root":
            return  # the log's registration of a key the policy trusts from the start anyway
        if known is not None:
            raise RegistryError(f"key {event.key.keyid[:16]} is already registered")
        try:
            verify_envelope(logged.envelope, [event.key])
        except EnvelopeError:
            raise RegistryError(
                "key event: the new key did not sign its own registration"
            ) from None
        others = [k for k in authorisers if k.keyid != event.key.keyid]
        if not others:
            raise RegistryError("key event: no valid key of the organisation or centre exists")
        try:
            _, signed = verify_envelope(logged.envelope, others)
        except EnvelopeError:
            raise RegistryError(
                "key event: not signed by a valid key of the organisation or by the centre"
            ) from None
        self.keys[event.key.keyid] = KeyStatus(
            event.key, logged.index, event.valid_from, event.valid_until, signed[0].keyid
        )

    def _revoke(self, event: KeyEvent, logged: Logged, authorisers: list[PublicKey]) -> None:
        status = self.keys.get(event.key.keyid)
        if status is None:
            raise RegistryError(f"key {event.key.keyid[:16]} is not registered; nothing to revoke")
        if status.revoked_index is not None:
            raise RegistryError(f"key {event.key.keyid[:16]} is already revoked")
        try:
            verify_envelope(logged.envelope, [*authorisers, event.key])
        except EnvelopeError:
            raise RegistryError(
                "key event: a revocation must be signed by a valid key of the organisation"
                " or by the centre"
            ) from None
        status.revoked_index = logged.index
        status.revoked_reason = event.reason
