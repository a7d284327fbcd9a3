"""A small stand-in for the centre in attest tests: a real log (sequencer, tiles, signed
checkpoints), a centre key, and helpers that log signed statements and build bundles exactly
as the service does, without Django."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clearroom.attest.bundle import Bundle, BundleItem, Consistency
from clearroom.attest.dsse import Envelope, sign_envelope
from clearroom.attest.entries import attestation_entry
from clearroom.attest.keys import FileSigner, PublicKey
from clearroom.attest.policy import Policy
from clearroom.attest.predicates import ManifestFile, ReleaseManifest, ReleaseStatus
from clearroom.attest.predicates.status import State
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE, Statement
from clearroom.blobs import LocalObjectStore
from clearroom.tlog.merkle import consistency_proof
from clearroom.tlog.note import generate_key, parse_signer_key
from clearroom.tlog.sequencer import Sequencer, SequencerOptions
from clearroom.tlog.tiles import TileReader

RELEASE = {"vendor": "acme", "product": "router", "version": "2.4.1"}
FIRMWARE = b"\x7fELF firmware image of the router, version 2.4.1"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def sign(statement: Statement, *signers: FileSigner) -> Envelope:
    return sign_envelope(PAYLOAD_TYPE, statement.to_json(), list(signers))


def manifest_for(firmware: bytes = FIRMWARE, release: dict[str, str] = RELEASE) -> Statement:
    files = (
        ManifestFile("router.img", "artifact", hashlib.sha256(firmware).hexdigest(), len(firmware)),
        ManifestFile("router.cdx.json", "sbom", "ab" * 32, 120),
    )
    return ReleaseManifest(
        release["vendor"], release["product"], release["version"], files
    ).to_statement()


@dataclass
class Logged:
    envelope: Envelope
    entry: bytes
    index: int


@dataclass
class Centre:
    root: Path
    name: str = "centre.test/log"
    key: FileSigner = field(default_factory=FileSigner.generate)
    vendor: FileSigner = field(default_factory=FileSigner.generate)

    status: Logged | None = None
    """The centre's newest release status, logged at the first bundle unless one was."""

    def __post_init__(self) -> None:
        skey, self.log_vkey = generate_key(self.name)
        self.tiles = LocalObjectStore(self.root / "tiles")
        self.sequencer = Sequencer(
            self.root / "seq",
            self.tiles,
            parse_signer_key(skey),
            options=SequencerOptions(batch_wait=0.001),
        )

    def close(self) -> None:
        self.sequencer.close()

    def log(
        self,
        envelope: Envelope,
        *,
        moment: datetime = EPOCH,
        organisation: str = "acme",
        release: dict[str, str] | None = RELEASE,
    ) -> Logged:
        statement = Statement.parse(envelope.payload)
        signers = [s.keyid for s in envelope.signatures]
        _, entry = attestation_entry(
            envelope,
            statement,
            organisation=organisation,
            signers=signers,
            moment=moment,
            release=release,
        )
        return Logged(envelope, entry, self.sequencer.add(entry))

    def add_key(
        self,
        new: FileSigner,
        authoriser: FileSigner,
        *,
        moment: datetime = EPOCH,
        valid_until: datetime | None = None,
        organisation: str = "acme",
    ) -> Logged:
        event = KeyEvent(organisation, "add", new.public_key, EPOCH, valid_until)
        statement = event.to_statement()
        return self.log(
            sign(statement, new, authoriser), moment=moment, release=None, organisation=organisation
        )

    def revoke_key(
        self,
        key: PublicKey,
        signer: FileSigner,
        *,
        moment: datetime = EPOCH,
        organisation: str = "acme",
    ) -> Logged:
        event = KeyEvent(organisation, "revoke", key, EPOCH, reason="key compromised")
        return self.log(
            sign(event.to_statement(), signer),
            moment=moment,
            release=None,
            organisation=organisation,
        )

    def release_status(
        self,
        state: State = "published",
        *,
        as_of: datetime | None = None,
        signer: FileSigner | None = None,
        release: dict[str, str] = RELEASE,
        reason: str = "",
        key_events: dict[str, int] | None = None,
    ) -> Logged:
        """Log the centre's signed release status (dated now unless ``as_of``), as the
        service does, and make it the one bundles carry. ``key_events``: how many key events
        of each organisation it says were logged before it (none by default)."""
        moment = as_of or datetime.now(UTC).replace(microsecond=0)
        size = self.sequencer.sequenced
        status = ReleaseStatus(dict(release), state, moment, size, reason, key_events or {})
        self.status = self.log(
            sign(status.to_statement(), signer or self.key), moment=moment, release=release
        )
        return self.status

    def bundle(
        self,
        attestations: list[Logged],
        key_events: list[Logged] = (),  # type: ignore[assignment]
        *,
        since: int | None = None,
        status: bool = True,
    ) -> Bundle:
        """A bundle of ``attestations`` and ``key_events``, with the centre's newest release
        status last (logged now if there is none yet) unless ``status`` is false."""
        if status and self.status is None:
            self.release_status()
        carried = [self.status] if status and self.status is not None else []
        # Everything logged so far is in the checkpoint, so bundles made one after another
        # without logging in between share it.
        self.sequencer.wait_for(self.sequencer.sequenced - 1, timeout=30)
        size = self.sequencer.size

        def item(x: Logged) -> BundleItem:
            return BundleItem(x.envelope, x.entry, self.sequencer.receipt(x.index))

        consistency = None
        if since is not None and 0 < since < size:
            proof = consistency_proof(TileReader(self.tiles, size), since, size)
            consistency = Consistency(since, size, tuple(proof))
        return Bundle(
            dict(RELEASE),
            tuple(item(x) for x in [*attestations, *carried]),
            tuple(item(x) for x in key_events),
            consistency,
        )

    def policy(self, **changes: object) -> Policy:
        doc: dict[str, object] = {
            "log": {"origin": self.name, "key": self.log_vkey},
            "vendor": {
                "organisation": "acme",
                "keys": [self.vendor.public_key.to_pem()],
                "centre_keys": [self.key.public_key.to_pem()],
            },
        }
        for path, value in changes.items():
            table, _, key = path.partition("__")
            doc.setdefault(table, {})
            if key:
                doc[table][key] = value  # type: ignore[index]
            else:
                doc[table] = value
        return Policy.from_dict(doc)
