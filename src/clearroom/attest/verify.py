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
4. **keys** — the vendor's key events (those the log records for the policy's organisation),
   replayed in log order from the policy's trusted vendor keys and centre keys, are all valid
   (KEY).
5. **manifest** — the newest release manifest for this release is signed by a vendor key (a
   changed byte or another key: SIGNATURE) that was valid at its log index and time (KEY).
6. **digest** — the artifact's SHA-256 is one of the manifest's files (DIGEST).
7. **release state** — the centre's logged publication and withdrawal records for the release
   in the bundle are in the tree (INCLUSION); if the newest says withdrawn, the release fails
   unless the policy allows withdrawn releases (POLICY).
8. **release status** — the newest release status in the bundle is signed by a centre key of
   the policy, logged, about this release, not older than the policy's ``max_status_age``, and
   the bundle carries every key event it counts (STATUS); if it says withdrawn, the release
   fails unless the policy allows withdrawn releases (POLICY).
9. **policy** — each required statement is present, about this artifact, signed by a key of
   the required organisation that was valid when it was logged (its key history replayed from
   the log, from the requirement's signers as trust anchors), and (for VSAs) has the required
   result and levels (POLICY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    RELEASE_STATUS,
    SLSA_VSA,
    ReleaseManifest,
    ReleaseStatus,
    validate_statement,
)
from clearroom.attest.registry import KeyNotValid, KeyRegistry, Logged, RegistryError
from clearroom.attest.seen import SeenCheckpoints, SeenStateUnreadable
from clearroom.attest.statement import PAYLOAD_TYPE, Statement
from clearroom.tlog import facts
from clearroom.tlog.checkpoint import Checkpoint, open_checkpoint
from clearroom.tlog.errors import InvalidInput, InvalidProof, TlogError
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import verify_consistency, verify_inclusion

READ_CHUNK = 4 << 20
CLOCK_SKEW = timedelta(minutes=10)
"""How far in this computer's future a release status may be dated (clocks differ)."""


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
    STATUS = 18


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
    now: datetime | None = None,
) -> Verdict:
    """Run every check; never raises for a failed check (the verdict says which failed).
    ``now`` (default: this computer's clock) is when the release status's age is measured."""
    verdict = Verdict(artifact_sha256=artifact_sha256)
    steps: list[tuple[str, Callable[[_State], str]]] = [
        ("checkpoint", _checkpoint),
        ("consistency", lambda s: _consistency(s, seen)),
        ("log inclusion", _inclusion),
        ("vendor keys", _keys),
        ("release manifest", _manifest),
        ("artifact digest", _digest),
        ("release state", _release_state),
        ("release status", _release_status),
        *((f"requires {r.describe()}", _requirement(r)) for r in policy.requirements),
    ]
    state = _State(bundle, policy, artifact_sha256, verdict, now or datetime.now(UTC))
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
    now: datetime
    checkpoint: Checkpoint | None = None
    entries: list[_Entry] = field(default_factory=list)
    registry: KeyRegistry | None = None
    manifest: ReleaseManifest | None = None
    registries: dict[tuple[str, tuple[str, ...]], KeyRegistry | str] = field(default_factory=dict)
    """Other organisations' key histories (for requirements): the registry, or why it failed."""

    def key_entries(self, organisation: str) -> list[_Entry]:
        """The bundle's key events the log records for ``organisation``, in log order."""
        return sorted(
            (
                e
                for e in self.entries
                if e.item in self.bundle.key_events and e.fact["organisation"] == organisation
            ),
            key=lambda e: e.index,
        )


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
    try:
        note = seen.load(state.policy.origin)
    except SeenStateUnreadable as exc:  # consistency cannot be checked: could not verify
        raise VerificationFailed(Failure.USAGE, str(exc)) from None
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
    key_entries = state.key_entries(policy.organisation)
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
    return _signers(entry, keys, what)[0]


def _signers(entry: _Entry, keys: list[PublicKey], what: str) -> tuple[PublicKey, ...]:
    """The ``keys`` whose signatures on ``entry``'s envelope verify (at least one)."""
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
    return signed


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


def _release_status(state: _State) -> str:
    """The centre's newest signed release status: present, trusted, logged, about this
    release, fresh enough, with every key event logged before it, and not withdrawn (unless
    the policy allows withdrawn releases)."""
    policy = state.policy
    candidates = [
        e
        for e in state.entries
        if e.item in state.bundle.attestations and e.fact["predicate_type"] == RELEASE_STATUS
    ]
    if not candidates:
        raise VerificationFailed(
            Failure.STATUS,
            "the bundle carries no release status signed by the centre, so a withdrawal could"
            " have been left out of it: fetch a fresh bundle from the centre (or use --online)",
        )
    if not policy.centre_keys:
        raise VerificationFailed(
            Failure.STATUS,
            "the policy trusts no centre key to sign release status: add the centre's key to"
            " vendor.centre_keys (compare it with one obtained out of band)",
        )
    entry = max(candidates, key=lambda e: e.index)
    try:
        signer = _signed_by(entry, list(policy.centre_keys), "the release status")
    except VerificationFailed as exc:
        raise VerificationFailed(Failure.STATUS, str(exc)) from None
    if entry.fact["envelope_sha256"] != envelope_sha256(entry.item.envelope):
        raise VerificationFailed(
            Failure.STATUS, f"log entry {entry.index} is for another release status than this one"
        )
    try:
        status = ReleaseStatus.from_statement(Statement.parse(entry.item.envelope.payload))
    except StatementError as exc:
        raise VerificationFailed(Failure.STATUS, str(exc)) from None
    if status.release != state.bundle.release:
        raise VerificationFailed(
            Failure.STATUS, f"the release status is for {status.release}, not this release"
        )
    as_of = status.as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    age = state.now - status.as_of
    if age < -CLOCK_SKEW:
        raise VerificationFailed(
            Failure.STATUS,
            f"the release status is dated {as_of}, in this computer's future: check its clock",
        )
    if age > policy.max_status_age:
        raise VerificationFailed(
            Failure.STATUS,
            f"the release status is from {as_of}, {_span(age)} old; the policy accepts at most"
            f" {_span(policy.max_status_age)} (release.max_status_age): fetch a fresh bundle"
            " from the centre (or use --online)",
        )
    for organisation, count in sorted(status.key_events.items()):
        carried = sum(1 for e in state.key_entries(organisation) if e.index < status.log_size)
        if carried != count:
            raise VerificationFailed(
                Failure.STATUS,
                f"the bundle carries {carried} of the {count} key events of {organisation} logged"
                " before its release status (a revocation could have been left out): fetch a"
                " fresh bundle from the centre (or use --online)",
            )
    where = f"as of {as_of} (log entry {entry.index}, signed by centre key {signer.keyid[:16]})"
    if status.state == "withdrawn":
        message = f"the centre states the vendor withdrew this release {where}: {status.reason}"
        if not policy.allow_withdrawn:
            raise VerificationFailed(Failure.POLICY, message)
        return f"WITHDRAWN {where}: {status.reason}; the policy allows it"
    return f"{status.state} {where}"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"


def _requirement(requirement: Requirement) -> Callable[[_State], str]:
    def check(state: _State) -> str:
        reasons = []
        for entry in state.entries:
            if entry.fact["predicate_type"] != requirement.predicate_type:
                continue
            organisation = requirement.organisation or entry.fact["organisation"]
            if organisation != entry.fact["organisation"]:
                reasons.append(
                    f"entry {entry.index} was logged for {entry.fact['organisation']},"
                    f" not {organisation}"
                )
                continue
            try:
                signer = _valid_signer(state, entry, requirement, organisation)
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
            return f"entry {entry.index}, signed by key {signer.keyid[:16]} of {organisation}"
        raise VerificationFailed(
            Failure.POLICY,
            f"no {requirement.describe()} statement meets the policy"
            + (f" ({'; '.join(reasons)})" if reasons else ""),
        )

    return check


def _valid_signer(
    state: _State, entry: _Entry, requirement: Requirement, organisation: str
) -> PublicKey:
    """A key that signed ``entry`` and was valid for ``organisation`` at its log index: its key
    history replayed from the bundle, from the requirement's signers as trust anchors. Named
    by an organisation, every key it registered counts (the policy's centre keys may
    introduce them); otherwise only the anchors themselves, while not revoked."""
    registry = _registry_of(state, organisation, requirement.signers)
    if requirement.organisation:
        keys = [s.key for s in registry.keys.values()]
    else:
        keys = [registry.keys[k.keyid].key for k in requirement.signers]
    signed = _signers(entry, keys, f"entry {entry.index} of {organisation}")
    problems = []
    for key in signed:
        try:
            registry.check(key.keyid, entry.index, entry.time)
        except KeyNotValid as exc:
            problems.append(str(exc))
            continue
        return key
    raise VerificationFailed(Failure.KEY, f"entry {entry.index}: {'; '.join(problems)}")


def _registry_of(state: _State, organisation: str, anchors: tuple[PublicKey, ...]) -> KeyRegistry:
    cache_key = (organisation, tuple(k.keyid for k in anchors))
    if cache_key not in state.registries:
        try:
            entries = state.key_entries(organisation)
            for key_entry in entries:
                key_entry.check_logged()
            state.registries[cache_key] = KeyRegistry.replay(
                organisation,
                [e.logged() for e in entries],
                roots=anchors,
                centre_keys=state.policy.centre_keys,
            )
        except (RegistryError, AttestError) as exc:
            state.registries[cache_key] = f"the key history of {organisation} is not valid: {exc}"
    found = state.registries[cache_key]
    if isinstance(found, str):
        raise VerificationFailed(Failure.KEY, found)
    return found


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
