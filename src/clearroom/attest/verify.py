"""The offline verifier: is this artifact what the vendor published, signed by a key that was
valid, recorded in the log the policy trusts, on the one history this client has seen, and
does the release carry what the policy requires?

The algorithm (docs/VERIFYING.md states it for re-implementers), in order; the first failure
ends it with its :class:`Failure` class, which is also ``clearroom verify``'s exit code:

1. **checkpoint** — the bundle's signed checkpoint opens under the policy's log key and origin
   (CHECKPOINT) with at least ``quorum`` cosignatures from the policy's witnesses (WITNESSES).
2. **consistency** — against the newest checkpoint this client saw before (its state
   directory): the same size must have the same root (else a split view), a smaller size is a
   rollback, a larger one must come with a consistency proof, or be vouched for by the required
   witnesses (CONSISTENCY). The newest verified checkpoint is then remembered.
3. **log inclusion** — every statement's log entry is a Clearroom attestation fact naming the
   SHA-256 of exactly that envelope, and its receipt proves the entry is in the checkpoint's
   tree (INCLUSION).
4. **keys** — the vendor's key events, replayed in log order from the policy's trusted vendor
   keys and centre keys, are all valid (KEY).
5. **manifest** — the newest release manifest for this release is signed by a vendor key (a
   changed byte or another key: SIGNATURE) that was valid at its log index and time (KEY).
6. **digest** — the artifact's SHA-256 is one of the manifest's files (DIGEST).
7. **release state** — the centre's logged publication and withdrawal records for the release
   in the bundle are in the tree (INCLUSION); if the newest says withdrawn, the release fails
   unless the policy allows withdrawn releases (POLICY).
8. **policy** — each required statement is present, about this artifact, signed by a required
   signer, and (for VSAs) has the required result and levels (POLICY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from clearroom.attest.bundle import Bundle, BundleItem
from clearroom.attest.dsse import verify_envelope
from clearroom.attest.entries import envelope_sha256
from clearroom.attest.errors import AttestError, EnvelopeError, StatementError
from clearroom.attest.keys import PublicKey
from clearroom.attest.policy import Policy, Requirement
from clearroom.attest.predicates import (
    RELEASE_MANIFEST,
    SLSA_VSA,
    ReleaseManifest,
    validate_statement,
)
from clearroom.attest.registry import KeyNotValid, KeyRegistry, Logged, RegistryError
from clearroom.attest.seen import SeenCheckpoints
from clearroom.attest.statement import PAYLOAD_TYPE, Statement
from clearroom.tlog import facts
from clearroom.tlog.checkpoint import Checkpoint, open_checkpoint
from clearroom.tlog.errors import InvalidInput, InvalidProof, TlogError
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import verify_consistency, verify_inclusion

READ_CHUNK = 4 << 20


class Failure(IntEnum):
    """Why a verification failed; the value is ``clearroom verify``'s exit code."""

    USAGE = 1
    BUNDLE = 2
    DIGEST = 10
    SIGNATURE = 11
    KEY = 12
    INCLUSION = 13
    CHECKPOINT = 14
    CONSISTENCY = 15
    WITNESSES = 16
    POLICY = 17


class VerificationFailed(AttestError):
    def __init__(self, failure: Failure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)
    failure: Failure | None = None
    artifact_sha256: str = ""
    artifact_name: str | None = None
    release: str | None = None
    """``vendor/product@version`` of the verified manifest."""
    checkpoint_size: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.ok,
            "failure": None if self.failure is None else self.failure.name.lower(),
            "exit_code": 0 if self.failure is None else int(self.failure),
            "artifact": {"sha256": self.artifact_sha256, "name": self.artifact_name},
            "release": self.release,
            "checkpoint_size": self.checkpoint_size,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in large chunks into one reused buffer (hashlib releases the
    GIL and runs at OpenSSL's speed on them)."""
    digest = hashlib.sha256()
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


@dataclass(frozen=True)
class _Entry:
    item: BundleItem
    fact: dict[str, Any]
    time: datetime

    @property
    def index(self) -> int:
        return self.item.receipt.index

    def logged(self) -> Logged:
        return Logged(self.item.envelope, self.index, self.time)

    def check_logged(self) -> None:
        """The envelope is exactly the one the log entry names (after its signature was
        checked, so a changed statement fails as a bad signature, not as a log mismatch)."""
        if self.fact["envelope_sha256"] != envelope_sha256(self.item.envelope):
            raise VerificationFailed(
                Failure.INCLUSION, f"log entry {self.index} is for another envelope than this one"
            )


def verify(
    artifact_sha256: str,
    bundle: Bundle,
    policy: Policy,
    seen: SeenCheckpoints | None = None,
) -> Verdict:
    """Run every check; never raises for a failed check (the verdict says which failed)."""
    verdict = Verdict(artifact_sha256=artifact_sha256)
    steps: list[tuple[str, Callable[[_State], str]]] = [
        ("checkpoint", _checkpoint),
        ("consistency", lambda s: _consistency(s, seen)),
        ("log inclusion", _inclusion),
        ("vendor keys", _keys),
        ("release manifest", _manifest),
        ("artifact digest", _digest),
        ("release state", _release_state),
        *((f"requires {r.describe()}", _requirement(r)) for r in policy.requirements),
    ]
    state = _State(bundle, policy, artifact_sha256, verdict)
    for name, step in steps:
        try:
            verdict.checks.append(Check(name, True, step(state)))
        except VerificationFailed as failed:
            verdict.checks.append(Check(name, False, str(failed)))
            verdict.failure = failed.failure
            break
    return verdict


@dataclass
class _State:
    bundle: Bundle
    policy: Policy
    artifact_sha256: str
    verdict: Verdict
    checkpoint: Checkpoint | None = None
    entries: list[_Entry] = field(default_factory=list)
    registry: KeyRegistry | None = None
    manifest: ReleaseManifest | None = None


def _checkpoint(state: _State) -> str:
    policy = state.policy
    try:
        checkpoint, cosignatures = open_checkpoint(
            state.bundle.checkpoint,
            policy.log_key,
            origin=policy.origin,
            cosigners=policy.witnesses,
        )
    except TlogError as exc:
        raise VerificationFailed(Failure.CHECKPOINT, str(exc)) from None
    if len(cosignatures) < policy.quorum:
        raise VerificationFailed(
            Failure.WITNESSES,
            f"{len(cosignatures)} of the policy's witnesses cosigned, {policy.quorum} required",
        )
    state.checkpoint = checkpoint
    state.verdict.checkpoint_size = checkpoint.size
    witnessed = f", cosigned by {', '.join(c.name for c in cosignatures)}" if cosignatures else ""
    return f"{checkpoint.origin} at size {checkpoint.size}{witnessed}"


def _consistency(state: _State, seen: SeenCheckpoints | None) -> str:
    assert state.checkpoint is not None
    new = state.checkpoint
    if seen is None:
        return "not checked (no state directory)"
    note = seen.load(state.policy.origin)
    old = None
    if note is not None:
        try:
            old, _ = open_checkpoint(note, state.policy.log_key, origin=state.policy.origin)
        except TlogError as exc:
            raise VerificationFailed(
                Failure.CONSISTENCY, f"the remembered checkpoint in {seen.directory} is bad: {exc}"
            ) from None
    detail = _compare(old, new, state)
    if old is None or new.size > old.size:
        seen.save(state.policy.origin, state.bundle.checkpoint)
    return detail


def _compare(old: Checkpoint | None, new: Checkpoint, state: _State) -> str:
    if old is None:
        return f"first checkpoint seen by this client (size {new.size}), remembered"
    if new.size == old.size:
        if new.root_hash != old.root_hash:
            raise VerificationFailed(
                Failure.CONSISTENCY,
                f"split view: size {new.size} has another root than the one seen before",
            )
        return f"same as the checkpoint seen before (size {new.size})"
    if new.size < old.size:
        raise VerificationFailed(
            Failure.CONSISTENCY,
            f"rollback: this client saw size {old.size}; the bundle's checkpoint is at"
            f" {new.size} (fetch a fresh bundle, e.g. with --online)",
        )
    proof = state.bundle.consistency
    if proof is not None and (proof.from_size, proof.to_size) == (old.size, new.size):
        try:
            verify_consistency(old.size, new.size, proof.proof, old.root_hash, new.root_hash)
        except TlogError as exc:
            raise VerificationFailed(Failure.CONSISTENCY, f"split view: {exc}") from None
        return f"extends the checkpoint seen before (size {old.size} → {new.size}), proven"
    if state.policy.quorum > 0:
        return f"size {old.size} → {new.size}: vouched for by the required witnesses"
    raise VerificationFailed(
        Failure.CONSISTENCY,
        f"no proof that size {new.size} extends size {old.size} seen before; verify with"
        " --online, or require witnesses in the policy",
    )


def _inclusion(state: _State) -> str:
    assert state.checkpoint is not None
    cp = state.checkpoint
    for item in (*state.bundle.attestations, *state.bundle.key_events):
        try:
            fact = facts.parse_fact(item.entry)
        except InvalidInput as exc:
            raise VerificationFailed(Failure.INCLUSION, str(exc)) from None
        if fact["fact"] != facts.ATTESTATION:
            raise VerificationFailed(Failure.INCLUSION, "a log entry is not an attestation fact")
        try:
            proof = list(item.receipt.proof)
            verify_inclusion(
                leaf_hash(item.entry), item.receipt.index, cp.size, proof, cp.root_hash
            )
        except (InvalidProof, InvalidInput) as exc:
            raise VerificationFailed(
                Failure.INCLUSION, f"entry {item.receipt.index}: {exc}"
            ) from None
        moment = datetime.strptime(fact["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        state.entries.append(_Entry(item, fact, moment))
    return f"{len(state.entries)} entries are in the tree of size {cp.size}"


def _keys(state: _State) -> str:
    policy = state.policy
    key_entries = [e for e in state.entries if e.item in state.bundle.key_events]
    for entry in key_entries:
        entry.check_logged()
    events = [e.logged() for e in key_entries]
    try:
        state.registry = KeyRegistry.replay(
            policy.organisation, events, roots=policy.vendor_keys, centre_keys=policy.centre_keys
        )
    except (RegistryError, AttestError) as exc:
        raise VerificationFailed(Failure.KEY, str(exc)) from None
    return (
        f"{len(state.registry.keys)} keys of {policy.organisation} known from {len(events)} events"
    )


def _manifest(state: _State) -> str:
    assert state.registry is not None
    release = state.bundle.release
    candidates = [
        e
        for e in state.entries
        if e.item in state.bundle.attestations and e.fact["predicate_type"] == RELEASE_MANIFEST
    ]
    if not candidates:
        raise VerificationFailed(Failure.SIGNATURE, "the bundle holds no release manifest")
    entry = max(candidates, key=lambda e: e.index)
    keys = [s.key for s in state.registry.keys.values()]
    signer = _signed_by(entry, keys, "the release manifest")
    entry.check_logged()
    try:
        state.registry.check(signer.keyid, entry.index, entry.time)
    except KeyNotValid as exc:
        raise VerificationFailed(Failure.KEY, str(exc)) from None
    try:
        manifest = ReleaseManifest.from_statement(Statement.parse(entry.item.envelope.payload))
    except (StatementError, AttestError) as exc:
        raise VerificationFailed(Failure.SIGNATURE, str(exc)) from None
    named = {"vendor": manifest.vendor, "product": manifest.product, "version": manifest.version}
    if named != release:
        raise VerificationFailed(Failure.SIGNATURE, f"the manifest is for {named}, not {release}")
    state.manifest = manifest
    state.verdict.release = f"{manifest.vendor}/{manifest.product}@{manifest.version}"
    return f"{state.verdict.release} signed by key {signer.keyid[:16]}"


def _signed_by(entry: _Entry, keys: list[PublicKey], what: str) -> PublicKey:
    payload_type = entry.item.envelope.payload_type
    if payload_type != entry.fact["payload_type"] or payload_type != PAYLOAD_TYPE:
        raise VerificationFailed(
            Failure.SIGNATURE,
            f"{what}'s payload type {payload_type!r} is not the in-toto type that was signed"
            " and logged",
        )
    try:
        _, signed = verify_envelope(entry.item.envelope, keys)
    except EnvelopeError:
        raise VerificationFailed(
            Failure.SIGNATURE, f"{what} is not signed by any trusted key (or was changed)"
        ) from None
    return signed[0]


def _digest(state: _State) -> str:
    assert state.manifest is not None
    for f in state.manifest.files:
        if f.sha256 == state.artifact_sha256:
            state.verdict.artifact_name = f.name
            return f"{f.name} ({f.kind}) sha256:{f.sha256[:16]}…"
    raise VerificationFailed(
        Failure.DIGEST,
        f"sha256:{state.artifact_sha256[:16]}… is not a file of this release: the artifact was"
        " changed, or it is not this release's",
    )


def _release_state(state: _State) -> str:
    """The centre's logged record of the release: published, or withdrawn by its vendor."""
    assert state.checkpoint is not None
    cp = state.checkpoint
    newest: tuple[int, dict[str, Any]] | None = None
    for logged in state.bundle.release_facts:
        index, proof = logged.receipt.index, list(logged.receipt.proof)
        try:
            fact = facts.parse_fact(logged.entry)
            verify_inclusion(leaf_hash(logged.entry), index, cp.size, proof, cp.root_hash)
        except (InvalidInput, InvalidProof) as exc:
            raise VerificationFailed(Failure.INCLUSION, f"release fact {index}: {exc}") from None
        if fact["fact"] != facts.RELEASE or fact["release"] != state.bundle.release:
            raise VerificationFailed(Failure.INCLUSION, f"entry {index} is not about this release")
        if newest is None or index > newest[0]:
            newest = (index, fact)
    if newest is None:
        return "not stated in this bundle"
    index, fact = newest
    if fact["state"] == "withdrawn":
        reason = fact.get("reason", "")
        if not state.policy.allow_withdrawn:
            raise VerificationFailed(
                Failure.POLICY,
                f"the vendor withdrew this release (log entry {index}): {reason}",
            )
        return f"WITHDRAWN (log entry {index}): {reason}; the policy allows it"
    return f"{fact['state']} (log entry {index})"


def _requirement(requirement: Requirement) -> Callable[[_State], str]:
    def check(state: _State) -> str:
        reasons = []
        for entry in state.entries:
            if entry.fact["predicate_type"] != requirement.predicate_type:
                continue
            try:
                signer = _signed_by(entry, list(requirement.signers), "the statement")
                entry.check_logged()
                statement = Statement.parse(entry.item.envelope.payload)
                if statement.predicate_type != requirement.predicate_type:
                    raise StatementError(f"entry {entry.index} is signed as another kind")
                validate_statement(statement)
            except (VerificationFailed, StatementError) as exc:  # try the next candidate
                reasons.append(str(exc))
                continue
            if state.artifact_sha256 not in statement.digests().values():
                reasons.append(f"entry {entry.index} is not about this artifact")
                continue
            problem = _vsa_problem(statement, requirement)
            if problem:
                reasons.append(f"entry {entry.index}: {problem}")
                continue
            return f"entry {entry.index}, signed by key {signer.keyid[:16]}"
        raise VerificationFailed(
            Failure.POLICY,
            f"no {requirement.describe()} statement meets the policy"
            + (f" ({'; '.join(reasons)})" if reasons else ""),
        )

    return check


def _vsa_problem(statement: Statement, requirement: Requirement) -> str | None:
    if requirement.predicate_type != SLSA_VSA:
        return None
    predicate = statement.predicate
    result = predicate.get("verificationResult")
    if requirement.result is not None and result != requirement.result:
        return f"result is {result}, {requirement.result} required"
    levels = predicate.get("verifiedLevels", [])
    missing = [level for level in requirement.levels if level not in levels]
    return f"levels {', '.join(missing)} missing" if missing else None
