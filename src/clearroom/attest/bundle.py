"""The release bundle: one self-contained JSON file holding everything needed to verify a
release offline — its signed statements, the vendor's key events, and for each the exact log
entry and its receipt (inclusion proof and signed checkpoint, with witness cosignatures).

Format (``mediaType`` ``application/vnd.clearroom.bundle.v1+json``; specified for
re-implementers in docs/VERIFYING.md)::

    {
      "mediaType": "application/vnd.clearroom.bundle.v1+json",
      "release": {"vendor": "acme", "product": "router", "version": "2.4.1"},
      "attestations": [ITEM, ...],   # release manifest, provenance, VSAs, claims
      "keyEvents": [ITEM, ...],      # the vendor's key history, in log order
      "releaseFacts": [FACT, ...],   # the release's publication and withdrawal, in log order
      "consistency": {"fromSize": M, "toSize": N, "proof": ["base64", ...]}   # optional
    }
    ITEM = {"envelope": DSSE-JSON-OBJECT, "entry": "base64 of the log entry",
            "receipt": "c2sp.org/tlog-proof@v1 text"}
    FACT = {"entry": "base64 of a clearroom.dev/release/v1 entry", "receipt": "…"}

Every receipt in a bundle is against the same checkpoint. ``consistency`` proves that
checkpoint extends an older one the reader has seen (the server adds it when asked with
``?since=M``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from clearroom.attest.dsse import Envelope
from clearroom.attest.errors import AttestError, EnvelopeError
from clearroom.tlog.errors import TlogError
from clearroom.tlog.receipt import Receipt
from clearroom.untrusted import MAX_UINT64, MalformedInput, parse_json

MEDIA_TYPE = "application/vnd.clearroom.bundle.v1+json"
MAX_BUNDLE_BYTES = 32 << 20
"""Bundles are refused above this size, before they are read: a bundle holds a release's
statements (each under 1 MiB) and small log entries; 32 MiB keeps a refusal under 100 MB."""


class BundleError(AttestError):
    """The bundle is not a well-formed Clearroom bundle v1."""


@dataclass(frozen=True)
class BundleItem:
    envelope: Envelope
    entry: bytes
    receipt: Receipt

    def to_dict(self) -> dict[str, Any]:
        return {
            "envelope": json.loads(self.envelope.to_json()),
            "entry": base64.b64encode(self.entry).decode(),
            "receipt": self.receipt.to_text(),
        }


@dataclass(frozen=True)
class LoggedFact:
    """A log entry that is not a signed statement (the centre's record that a release was
    published or withdrawn), with its receipt."""

    entry: bytes
    receipt: Receipt

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": base64.b64encode(self.entry).decode(),
            "receipt": self.receipt.to_text(),
        }


@dataclass(frozen=True)
class Consistency:
    from_size: int
    to_size: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class Bundle:
    release: dict[str, str]
    attestations: tuple[BundleItem, ...]
    key_events: tuple[BundleItem, ...] = ()
    consistency: Consistency | None = None
    release_facts: tuple[LoggedFact, ...] = ()

    @property
    def checkpoint(self) -> bytes:
        """The signed checkpoint every receipt of the bundle is against."""
        return self.attestations[0].receipt.checkpoint

    def to_json(self) -> bytes:
        doc: dict[str, Any] = {
            "mediaType": MEDIA_TYPE,
            "release": self.release,
            "attestations": [i.to_dict() for i in self.attestations],
            "keyEvents": [i.to_dict() for i in self.key_events],
            "releaseFacts": [f.to_dict() for f in self.release_facts],
        }
        if self.consistency is not None:
            doc["consistency"] = {
                "fromSize": self.consistency.from_size,
                "toSize": self.consistency.to_size,
                "proof": [base64.b64encode(h).decode() for h in self.consistency.proof],
            }
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def parse(cls, data: bytes) -> Bundle:
        if len(data) > MAX_BUNDLE_BYTES:
            raise BundleError(f"bundle: larger than {MAX_BUNDLE_BYTES} bytes")
        try:
            doc = parse_json(data, what="bundle")
        except MalformedInput as exc:
            raise BundleError(str(exc)) from None
        if not isinstance(doc, dict) or doc.get("mediaType") != MEDIA_TYPE:
            raise BundleError(f"bundle: mediaType is not {MEDIA_TYPE}")
        release = doc.get("release")
        if not isinstance(release, dict) or not all(
            isinstance(release.get(k), str) for k in ("vendor", "product", "version")
        ):
            raise BundleError("bundle: 'release' needs vendor, product and version")
        attestations = _items(doc.get("attestations"), "attestations")
        if not attestations:
            raise BundleError("bundle: it holds no attestations")
        key_events = _items(doc.get("keyEvents", []), "keyEvents")
        release_facts = _facts(doc.get("releaseFacts", []))
        receipts = [i.receipt for i in (*attestations, *key_events)]
        receipts += [f.receipt for f in release_facts]
        checkpoints = {r.checkpoint for r in receipts}
        if len(checkpoints) != 1:
            raise BundleError("bundle: its receipts are not all against one checkpoint")
        consistency = _consistency(doc.get("consistency"))
        return cls(
            {k: release[k] for k in ("vendor", "product", "version")},
            attestations,
            key_events,
            consistency,
            release_facts,
        )


def _items(raw: Any, what: str) -> tuple[BundleItem, ...]:
    if not isinstance(raw, list):
        raise BundleError(f"bundle: '{what}' is not a list")
    items = []
    for n, item in enumerate(raw):
        where = f"bundle: {what}[{n}]"
        if not isinstance(item, dict):
            raise BundleError(f"{where} is not an object")
        try:
            envelope = Envelope.from_dict(item.get("envelope"))
            entry = base64.b64decode(_text(item, "entry"), validate=True)
            receipt = Receipt.parse(_text(item, "receipt"))
        except (EnvelopeError, TlogError, binascii.Error, ValueError) as exc:
            raise BundleError(f"{where}: {exc}") from None
        items.append(BundleItem(envelope, entry, receipt))
    return tuple(items)


def _facts(raw: Any) -> tuple[LoggedFact, ...]:
    if not isinstance(raw, list):
        raise BundleError("bundle: 'releaseFacts' is not a list")
    facts = []
    for n, item in enumerate(raw):
        try:
            if not isinstance(item, dict):
                raise ValueError("is not an object")
            entry = base64.b64decode(_text(item, "entry"), validate=True)
            facts.append(LoggedFact(entry, Receipt.parse(_text(item, "receipt"))))
        except (TlogError, binascii.Error, ValueError) as exc:
            raise BundleError(f"bundle: releaseFacts[{n}]: {exc}") from None
    return tuple(facts)


def _consistency(raw: Any) -> Consistency | None:
    if raw is None:
        return None
    try:
        if not isinstance(raw["proof"], list) or not all(isinstance(h, str) for h in raw["proof"]):
            raise ValueError("proof")
        proof = tuple(base64.b64decode(h, validate=True) for h in raw["proof"])
        from_size, to_size = _size(raw["fromSize"]), _size(raw["toSize"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise BundleError(
            "bundle: 'consistency' needs fromSize and toSize (JSON integers, not strings or"
            " fractions) and a list of base64 proof hashes"
        ) from None
    return Consistency(from_size, to_size, proof)


def _size(value: Any) -> int:
    """A tree size: a JSON integer in 0..2^64-1 (``"21"``, ``21.0``, ``true`` are refused)."""
    if type(value) is not int or not 0 <= value <= MAX_UINT64:
        raise ValueError(f"{value!r} is not a tree size")
    return value


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise ValueError(f"'{name}' is missing or not a string")
    return value
