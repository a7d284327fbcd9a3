"""DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1.0): a payload, its type, and
signatures over the pre-authentication encoding of both.

Why exactly this: the signature covers ``PAE(type, payload)`` — the type is signed too, so a
payload cannot be re-labelled — and a verifier must use the payload bytes it verified, never a
re-parsed or re-encoded copy. :func:`verify_envelope` returns those bytes.

Example::

    signer = FileSigner.generate()
    envelope = sign_envelope("application/vnd.in-toto+json", b"{}", [signer])
    payload = verify_envelope(Envelope.from_json(envelope.to_json()), [signer.public_key])
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clearroom.attest.errors import EnvelopeError
from clearroom.attest.keys import PublicKey, Signer

MAX_ENVELOPE_BYTES = 16 << 20


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP len(type) SP type SP len(body) SP body`` (lengths in ASCII decimal)."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "payload": base64.b64encode(self.payload).decode(),
                "payloadType": self.payload_type,
                "signatures": [
                    {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()}
                    for s in self.signatures
                ],
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Envelope:
        if len(data) > MAX_ENVELOPE_BYTES:
            raise EnvelopeError(f"dsse: envelope larger than {MAX_ENVELOPE_BYTES} bytes")
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"dsse: envelope is not JSON ({exc})") from None
        except RecursionError:
            raise EnvelopeError("dsse: envelope is nested too deeply") from None
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> Envelope:
        if not isinstance(doc, dict):
            raise EnvelopeError("dsse: envelope is not a JSON object")
        payload_type, payload, signatures = (
            doc.get("payloadType"),
            doc.get("payload"),
            doc.get("signatures"),
        )
        if not isinstance(payload_type, str) or not payload_type:
            raise EnvelopeError("dsse: envelope has no payloadType")
        if not isinstance(payload, str):
            raise EnvelopeError("dsse: envelope has no payload")
        if not isinstance(signatures, list) or not signatures:
            raise EnvelopeError("dsse: envelope has no signatures")
        parsed = []
        for item in signatures:
            if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
                raise EnvelopeError("dsse: a signature has no 'sig'")
            keyid = item.get("keyid", "")
            if not isinstance(keyid, str):
                raise EnvelopeError("dsse: a signature's keyid is not a string")
            parsed.append(Signature(keyid, _b64(item["sig"], "signature")))
        return cls(payload_type, _b64(payload, "payload"), tuple(parsed))


def _b64(text: str, what: str) -> bytes:
    """Standard or URL-safe base64, padded or not (the spec allows either on input)."""
    cleaned = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"dsse: {what} is not base64") from None


def sign_envelope(payload_type: str, payload: bytes, signers: Sequence[Signer]) -> Envelope:
    if not signers:
        raise EnvelopeError("dsse: at least one signer is needed")
    message = pae(payload_type, payload)
    signatures = tuple(Signature(s.public_key.keyid, s.sign(message)) for s in signers)
    return Envelope(payload_type, payload, signatures)


def add_signature(envelope: Envelope, signer: Signer) -> Envelope:
    """The envelope with one more signature (several parties may sign one payload)."""
    sig = signer.sign(pae(envelope.payload_type, envelope.payload))
    extra = Signature(signer.public_key.keyid, sig)
    return Envelope(envelope.payload_type, envelope.payload, (*envelope.signatures, extra))


def verify_envelope(
    envelope: Envelope,
    keys: Sequence[PublicKey],
    *,
    threshold: int = 1,
    payload_type: str | None = None,
) -> tuple[bytes, tuple[PublicKey, ...]]:
    """The verified payload and the distinct keys whose signatures verified; raises
    :class:`EnvelopeError` when fewer than ``threshold`` of ``keys`` signed, or when the
    payload type is not ``payload_type``. Keyids are hints: every key is tried."""
    if threshold < 1:
        raise EnvelopeError("dsse: threshold must be at least 1")
    if payload_type is not None and envelope.payload_type != payload_type:
        raise EnvelopeError(
            f"dsse: payload type is {envelope.payload_type!r}, expected {payload_type!r}"
        )
    message = pae(envelope.payload_type, envelope.payload)
    verified: dict[str, PublicKey] = {}
    for signature in envelope.signatures:
        for key in keys:
            if key.keyid not in verified and key.verify(signature.sig, message):
                verified[key.keyid] = key
                break
    if len(verified) < threshold:
        raise EnvelopeError(
            f"dsse: {len(verified)} of the trusted keys signed the envelope, {threshold} needed"
        )
    return envelope.payload, tuple(verified.values())
