"""Signing keys and signed statements, server side. The rules are the verifier's own
(:class:`clearroom.attest.registry.KeyRegistry`, the predicate validators): the service replays
an organisation's key events exactly as an offline verifier will, so it never accepts what a
verifier would refuse. Every accepted key event and statement is logged in the transaction
that stores it (statements about a draft release: when the release is published).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from clearroom.attest.dsse import Envelope, add_signature, verify_envelope
from clearroom.attest.entries import attestation_entry, envelope_sha256
from clearroom.attest.errors import AttestError, EnvelopeError
from clearroom.attest.keys import PublicKey
from clearroom.attest.predicates import (
    CLAIM,
    KEY_EVENT,
    OPENVEX,
    RELEASE_MANIFEST,
    SLSA_PROVENANCE,
    SLSA_VSA,
    ReleaseManifest,
    validate_statement,
)
from clearroom.attest.registry import KeyEvent, KeyRegistry, Logged, RegistryError, rfc3339
from clearroom.attest.statement import PAYLOAD_TYPE, Statement
from clearroom.jobs import enqueue
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.centre import centre_key, centre_signer
from clearroom.server.attestations.models import Attestation, SigningKey
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor, Permission
from clearroom.server.catalog.models import Product, Release
from clearroom.server.errors import Conflict, Forbidden, Invalid, Unauthenticated
from clearroom.server.transparency import services as log
from clearroom.tlog import facts

VENDOR_PREDICATES = (RELEASE_MANIFEST, SLSA_PROVENANCE, CLAIM, OPENVEX)
PENDING = 1 << 62
"""Replay position of key events not yet sequenced: after every logged one, in commit order."""


def _require(
    actor: Actor, permission: Permission, organisation: Organisation, product: Product | None = None
) -> None:
    if not actor.is_authenticated:
        raise Unauthenticated("sign in or present an API token to do this")
    if not actor.has_perm(permission, organisation, product):
        raise Forbidden(f"you need the {permission.value!r} permission in {organisation.slug!r}")


def _parse(data: bytes) -> tuple[Envelope, Statement]:
    try:
        envelope = Envelope.from_json(data)
        if envelope.payload_type != PAYLOAD_TYPE:
            raise Invalid(f"payload type must be {PAYLOAD_TYPE} (an in-toto statement)")
        statement = Statement.parse(envelope.payload)
        validate_statement(statement)
    except AttestError as exc:
        raise Invalid(str(exc)) from None
    return envelope, statement


def _now() -> datetime:
    """Log entries carry whole seconds; checks use the very moment the entry will state."""
    return timezone.now().astimezone(UTC).replace(microsecond=0)


def _entry_time(attestation: Attestation) -> datetime:
    fact = json.loads(bytes(attestation.log_entry.entry))  # type: ignore[union-attr]
    return datetime.strptime(fact["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def registry(organisation: Organisation) -> KeyRegistry:
    """The organisation's keys, replayed from its key events like an offline verifier does."""
    events = (
        Attestation.objects.filter(organisation=organisation, predicate_type=KEY_EVENT)
        .select_related("log_entry")
        .order_by("id")
    )
    logged = [
        Logged(
            Envelope.from_json(bytes(a.envelope)),
            a.log_entry.index if a.log_entry.index is not None else PENDING + a.log_entry.pk,
            _entry_time(a),
        )
        for a in events
        if a.log_entry is not None
    ]
    return KeyRegistry.replay(organisation.slug, logged, centre_keys=[centre_key()])


def _store(
    actor: Actor,
    organisation: Organisation,
    envelope: Envelope,
    statement: Statement,
    signers: list[str],
    *,
    release: Release | None = None,
    moment: datetime | None = None,
) -> Attestation:
    """Keep the statement; log it now when ``moment`` is given (else at publication)."""
    data = envelope.to_json()
    if Attestation.objects.filter(envelope_sha256=envelope_sha256(envelope)).exists():
        raise Conflict("this signed statement was already submitted")
    attestation = Attestation.objects.create(
        organisation=organisation,
        release=release,
        predicate_type=statement.predicate_type,
        payload_type=envelope.payload_type,
        envelope=data,
        envelope_sha256=envelope_sha256(envelope),
        signer_keyids=sorted(signers),
        created_by=actor.user,
    )
    if moment is not None:
        log_statement(attestation, envelope, statement, moment)
    return attestation


def log_statement(
    attestation: Attestation, envelope: Envelope, statement: Statement, moment: datetime
) -> None:
    release = attestation.release
    ref = None
    if release is not None:
        p = release.product
        ref = {"vendor": p.vendor.slug, "product": p.slug, "version": release.version}
    fact_id, entry = attestation_entry(
        envelope,
        statement,
        organisation=attestation.organisation.slug,
        signers=attestation.signer_keyids,
        moment=moment,
        release=ref,
    )
    digests = statement.digests()
    attestation.log_entry = log.record_entry(
        facts.ATTESTATION,
        fact_id,
        entry,
        release=release,
        subject_sha256=next(iter(digests.values()), ""),
    )
    attestation.save(update_fields=["log_entry"])


# --- keys ----------------------------------------------------------------------------------


def register_key(actor: Actor, organisation: Organisation, data: bytes) -> SigningKey:
    """Accept a signed key-event statement adding a key. Signed by an existing valid key of
    the organisation, it is a rotation; otherwise a member with ``org:key:manage`` asks the
    centre to vouch for it, and the centre countersigns."""
    _require(actor, Permission.ORG_KEY_ROTATE, organisation)
    envelope, statement = _parse(data)
    event = _key_event(statement, organisation, "add")
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        log.check_capacity(1)
        keys = registry(organisation)
        moment = _now()
        envelope = _authorised(actor, organisation, keys, envelope, moment)
        status = keys.keys[event.key.keyid]
        attestation = _store(
            actor, organisation, envelope, statement, _signers(envelope, keys), moment=moment
        )
        key = SigningKey.objects.create(
            organisation=organisation,
            keyid=event.key.keyid,
            algorithm=event.key.algorithm,
            public_key=event.key.to_pem(),
            valid_from=event.valid_from,
            valid_until=event.valid_until,
            added_by=attestation,
            authorised_by=status.authorised_by,
        )
        audit.record(
            actor, "org:key:add", allowed=True, target=event.key.keyid, organisation=organisation
        )
    return key


def _authorised(
    actor: Actor,
    organisation: Organisation,
    keys: KeyRegistry,
    envelope: Envelope,
    moment: datetime,
) -> Envelope:
    """The envelope as it will be logged, after the registry accepted it: countersigned by
    the centre when no key of the organisation authorised it and the actor may ask for that."""
    trial = copy.deepcopy(keys)
    trial.centre_keys = ()
    try:
        trial.apply(Logged(envelope, PENDING << 1, moment))
        keys.apply(Logged(envelope, PENDING << 1, moment))
        return envelope
    except RegistryError as exc:
        if not actor.has_perm(Permission.ORG_KEY_MANAGE, organisation):
            raise Forbidden(
                f"{exc}; a member with the 'org:key:manage' permission can ask the centre to"
                " vouch for the key instead"
            ) from None
    countersigned = add_signature(envelope, centre_signer())
    try:
        keys.apply(Logged(countersigned, PENDING << 1, moment))
    except RegistryError as exc:
        raise Invalid(str(exc)) from None
    return countersigned


def _key_event(statement: Statement, organisation: Organisation, action: str) -> KeyEvent:
    try:
        event = KeyEvent.from_statement(statement)
    except AttestError as exc:
        raise Invalid(str(exc)) from None
    if event.organisation != organisation.slug:
        raise Invalid(f"the key event is for {event.organisation!r}, not {organisation.slug!r}")
    if event.action != action:
        raise Invalid(f"this endpoint takes an {action!r} key event, not {event.action!r}")
    return event


def _signers(envelope: Envelope, keys: KeyRegistry) -> list[str]:
    known = [s.key for s in keys.keys.values()] + list(keys.centre_keys)
    try:
        _, signed = verify_envelope(envelope, known)
    except EnvelopeError:
        return []
    return [k.keyid for k in signed]


def revoke_key(
    actor: Actor, organisation: Organisation, keyid: str, *, reason: str, data: bytes | None
) -> SigningKey:
    """Revoke with a key-event statement signed by a valid key of the organisation, or, for a
    member with ``org:key:manage`` (a lost or stolen key), signed by the centre."""
    _require(actor, Permission.ORG_KEY_ROTATE, organisation)
    key = SigningKey.objects.filter(organisation=organisation, keyid=keyid).first()
    if key is None:
        raise Invalid(f"{organisation.slug} has no key {keyid}")
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        log.check_capacity(1)
        keys = registry(organisation)
        moment = _now()
        if data is None:
            _require(actor, Permission.ORG_KEY_MANAGE, organisation)
            if not reason.strip():
                raise Invalid("reason: say why the key is revoked; it is public")
            event = KeyEvent(
                organisation.slug,
                "revoke",
                PublicKey.from_pem(key.public_key),
                key.valid_from,
                reason=reason.strip(),
            )
            statement = event.to_statement()
            envelope = Envelope(PAYLOAD_TYPE, statement.to_json(), ())
            envelope = add_signature(envelope, centre_signer())
        else:
            envelope, statement = _parse(data)
            event = _key_event(statement, organisation, "revoke")
            if event.key.keyid != keyid:
                raise Invalid("the revocation is for another key than the one in the URL")
        try:
            keys.apply(Logged(envelope, PENDING << 1, moment))
        except RegistryError as exc:
            raise Forbidden(str(exc)) from None
        attestation = _store(
            actor, organisation, envelope, statement, _signers(envelope, keys), moment=moment
        )
        key.revoked_by = attestation
        key.revoked_reason = event.reason
        key.save(update_fields=["revoked_by", "revoked_reason"])
        audit.record(actor, "org:key:revoke", allowed=True, target=keyid, organisation=organisation)
    return key


# --- statements about releases ---------------------------------------------------------------


def add_attestation(actor: Actor, release: Release, data: bytes) -> Attestation:
    """Accept a vendor's signed statement about ``release`` (manifest, provenance, claim):
    signed by a registered, unrevoked key of the vendor, and about this release."""
    vendor = release.product.vendor
    _require(actor, Permission.RELEASE_WRITE, vendor, release.product)
    envelope, statement = _parse(data)
    if statement.predicate_type not in VENDOR_PREDICATES:
        raise Invalid(
            f"vendors submit {', '.join(VENDOR_PREDICATES)}; not {statement.predicate_type}"
        )
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        moment = _now()
        valid = registry(vendor).valid_keys(PENDING << 1, moment)
        try:
            _, signed = verify_envelope(envelope, valid)
        except EnvelopeError:
            raise Invalid(
                f"not signed by a registered, unrevoked key of {vendor.slug}; register the key"
                " first (clearroom key register)"
            ) from None
        if statement.predicate_type == RELEASE_MANIFEST:
            _check_manifest_names(statement, locked)
        published = locked.state != Release.State.DRAFT
        if published:
            log.check_capacity(1)
            if statement.predicate_type == RELEASE_MANIFEST:
                check_manifest_matches(statement, locked)
        attestation = _store(
            actor,
            vendor,
            envelope,
            statement,
            [k.keyid for k in signed],
            release=locked,
            moment=moment if published else None,
        )
        if published:
            # The bundle changed: its status names the signers whose key events it must carry
            # (and a first statement gives the release a bundle, which needs a status).
            from clearroom.server.attestations.status import issue_status  # it imports this

            issue_status(locked, moment)
        if statement.predicate_type == OPENVEX:  # the vendor's statements change findings
            enqueue("vulns.evaluate", release=locked.pk, dedupe_key=f"evaluate:{locked.pk}")
    return attestation


def _check_manifest_names(statement: Statement, release: Release) -> None:
    try:
        manifest = ReleaseManifest.from_statement(statement)
    except AttestError as exc:
        raise Invalid(str(exc)) from None
    p = release.product
    if (manifest.vendor, manifest.product, manifest.version) != (
        p.vendor.slug,
        p.slug,
        release.version,
    ):
        raise Invalid(
            f"the manifest is for {manifest.vendor}/{manifest.product}@{manifest.version}, not"
            f" {p.vendor.slug}/{p.slug}@{release.version}"
        )


def check_manifest_matches(statement: Statement, release: Release) -> None:
    """The manifest names exactly the release's public files, with their digests. Confidential
    files are left out of it: the manifest is public, their names are not."""
    manifest = ReleaseManifest.from_statement(statement)
    listed = {(f.name, f.sha256) for f in manifest.files}
    files = [*release.artifacts.all(), *release.documents.all()]
    secret = {f.name for f in files if f.is_confidential}
    public = {(f.name, f.sha256) for f in files if not f.is_confidential}
    if leaked := sorted(name for name, _ in listed if name in secret):
        raise Conflict(
            f"the signed manifest names confidential files ({', '.join(leaked)}); the manifest"
            " is public, so sign one without them"
        )
    if listed != public:
        missing = sorted(n for n, _ in public - listed)
        extra = sorted(n for n, _ in listed - public)
        raise Conflict(
            "the signed manifest does not match the release's public files"
            + (f"; not in the manifest: {', '.join(missing)}" if missing else "")
            + (f"; not in the release (or other bytes): {', '.join(extra)}" if extra else "")
        )


def on_publish(release: Release) -> int:
    """Inside the publishing transaction: the newest manifest must match the files; every
    statement about the release is logged with it. Returns how many."""
    pending = list(release.attestations.filter(log_entry__isnull=True).order_by("id"))
    manifests = release.attestations.filter(predicate_type=RELEASE_MANIFEST).order_by("-id")
    if newest := manifests.first():
        check_manifest_matches(
            Statement.parse(Envelope.from_json(bytes(newest.envelope)).payload), release
        )
    moment = _now()
    for attestation in pending:
        log_statement(attestation, _envelope(attestation), statement_of(attestation), moment)
    return len(pending)


def _envelope(attestation: Attestation) -> Envelope:
    return Envelope.from_json(bytes(attestation.envelope))


def statement_of(attestation: Attestation) -> Statement:
    """The in-toto statement a stored attestation signs (verified when it was stored)."""
    return Statement.parse(_envelope(attestation).payload)


def key_summary(key: SigningKey) -> dict[str, object]:
    return {
        "keyid": key.keyid,
        "algorithm": key.algorithm,
        "public_key": key.public_key,
        "valid_from": rfc3339(key.valid_from),
        "valid_until": rfc3339(key.valid_until) if key.valid_until else None,
        "authorised_by": key.authorised_by,
        "revoked": key.is_revoked,
        "revoked_reason": key.revoked_reason,
    }


def add_evaluation_report(
    actor: Actor, evaluator: Organisation, release: Release, data: bytes
) -> tuple[Attestation, Statement]:
    """Accept an evaluator's signed final report about ``release``: an SLSA verification
    summary (VSA) signed by a registered, unrevoked key of ``evaluator`` whose subjects are
    artifacts of the release. Logged at once (a report is about a published release)."""
    envelope, statement = _parse(data)
    if statement.predicate_type != SLSA_VSA:
        raise Invalid(
            f"an evaluation report is an SLSA VSA ({SLSA_VSA}), not {statement.predicate_type}"
        )
    shipped = set(release.artifacts.values_list("sha256", flat=True))
    named = set(statement.digests().values())
    if not named or not named <= shipped:
        raise Invalid("the report's subjects must be artifacts of this release (by SHA-256)")
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=evaluator.pk)
        log.check_capacity(1)
        moment = _now()
        valid = registry(evaluator).valid_keys(PENDING << 1, moment)
        try:
            _, signed = verify_envelope(envelope, valid)
        except EnvelopeError:
            raise Invalid(
                f"not signed by a registered, unrevoked key of {evaluator.slug}; register the"
                " key first (clearroom key register)"
            ) from None
        attestation = _store(
            actor,
            evaluator,
            envelope,
            statement,
            [k.keyid for k in signed],
            release=release,
            moment=moment,
        )
        if release.state != Release.State.DRAFT:
            # The release's status now names the evaluator, whose key events its bundle must
            # carry (a revoked evaluator key cannot be hidden by leaving its revocation out).
            from clearroom.server.attestations.status import issue_status  # it imports this

            issue_status(release, moment)
    return attestation, statement
