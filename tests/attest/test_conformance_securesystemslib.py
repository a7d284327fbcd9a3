"""DSSE interoperability with an independent implementation, securesystemslib (the one in-toto
and python-tuf use): Clearroom's envelopes verify there, theirs verify here, for Ed25519 and
ECDSA P-256, through the libraries' public APIs and the JSON wire format only.

Two differences this pins down: securesystemslib only tries a key whose keyid equals the
signature's keyid (its own docstring calls that non-compliant with DSSE), so its keys are built
with Clearroom's keyid (hex SHA-256 of the DER SPKI); and it verifies ECDSA signatures only in
DER, so Clearroom must keep signing DER (raw r‖s, which Clearroom also accepts, fails there)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from clearroom.attest.dsse import Envelope, Signature, pae, sign_envelope, verify_envelope
from clearroom.attest.errors import EnvelopeError
from clearroom.attest.keys import FileSigner, PublicKey, der_to_raw
from clearroom.attest.predicates import ManifestFile, ReleaseManifest
from clearroom.attest.statement import PAYLOAD_TYPE, Statement

ALGORITHMS = ["ed25519", "ecdsa-p256"]


def payload() -> bytes:
    files = [ManifestFile("fw.bin", "artifact", "ab" * 32, 10)]
    return ReleaseManifest("acme", "fw", "1.0", files).to_statement().to_json()


def sslib_key(key: PublicKey) -> SSlibKey:
    """Clearroom's public key as securesystemslib's, under Clearroom's keyid."""
    return SSlibKey.from_crypto(serialization.load_der_public_key(key.der), keyid=key.keyid)


def clearroom_key(key: SSlibKey) -> PublicKey:
    """securesystemslib's public key (keyval: raw hex for Ed25519, PEM for ECDSA) as Clearroom's."""
    if key.keytype == "ed25519":
        raw = bytes.fromhex(key.keyval["public"])
        return PublicKey.from_cryptography(Ed25519PublicKey.from_public_bytes(raw))
    return PublicKey.from_pem(key.keyval["public"])


def sslib_signer(algorithm: str) -> CryptoSigner:
    if algorithm == "ed25519":
        return CryptoSigner.generate_ed25519()
    return CryptoSigner.generate_ecdsa()


def to_sslib(envelope: Envelope) -> SslibEnvelope:
    return SslibEnvelope.from_dict(json.loads(envelope.to_json()))


def from_sslib(envelope: SslibEnvelope) -> Envelope:
    return Envelope.from_json(json.dumps(envelope.to_dict()).encode())


def test_pae_is_the_same():
    theirs = SslibEnvelope(b"hello world", "http://example.com/HelloWorld", {})
    assert theirs.pae() == pae("http://example.com/HelloWorld", b"hello world")
    unicode_type = SslibEnvelope(b"\x00\xff", "t/\u00e9", {})
    assert unicode_type.pae() == pae("t/\u00e9", b"\x00\xff")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_clearroom_envelopes_verify_in_securesystemslib(algorithm):
    signer = FileSigner.generate(algorithm)
    envelope = sign_envelope(PAYLOAD_TYPE, payload(), [signer])
    theirs = to_sslib(envelope)
    assert theirs.payload == payload() and theirs.payload_type == PAYLOAD_TYPE
    accepted = theirs.verify([sslib_key(signer.public_key)], threshold=1)
    assert list(accepted) == [signer.public_key.keyid]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_securesystemslib_envelopes_verify_in_clearroom(algorithm):
    signer = sslib_signer(algorithm)
    theirs = SslibEnvelope(payload(), PAYLOAD_TYPE, {})
    theirs.sign(signer)
    envelope = from_sslib(theirs)
    key = clearroom_key(signer.public_key)
    verified, keys = verify_envelope(envelope, [key], payload_type=PAYLOAD_TYPE)
    assert verified == payload() and keys == (key,)
    # securesystemslib names keys its own way; the keyid is only a hint to Clearroom.
    assert envelope.signatures[0].keyid == signer.public_key.keyid != key.keyid
    Statement.parse(verified)


def test_multi_signature_envelopes_cross_both_ways():
    ours = [FileSigner.generate(a) for a in ALGORITHMS]
    theirs = [sslib_signer(a) for a in ALGORITHMS]
    envelope = to_sslib(sign_envelope(PAYLOAD_TYPE, payload(), ours))
    for signer in theirs:
        envelope.sign(signer)
    assert len(envelope.signatures) == 4

    all_sslib_keys = [sslib_key(s.public_key) for s in ours] + [s.public_key for s in theirs]
    assert len(envelope.verify(all_sslib_keys, threshold=4)) == 4

    all_clearroom_keys = [s.public_key for s in ours] + [
        clearroom_key(s.public_key) for s in theirs
    ]
    _, keys = verify_envelope(from_sslib(envelope), all_clearroom_keys, threshold=4)
    assert {k.keyid for k in keys} == {k.keyid for k in all_clearroom_keys}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_both_refuse_another_key(algorithm):
    envelope = sign_envelope(PAYLOAD_TYPE, payload(), [FileSigner.generate(algorithm)])
    other = FileSigner.generate(algorithm).public_key
    forged = Envelope(
        envelope.payload_type,
        envelope.payload,
        (Signature(other.keyid, envelope.signatures[0].sig),),
    )
    with pytest.raises(VerificationError):
        to_sslib(forged).verify([sslib_key(other)], threshold=1)
    with pytest.raises(EnvelopeError):
        verify_envelope(forged, [other])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_both_refuse_a_changed_payload(algorithm):
    signer = sslib_signer(algorithm)
    theirs = SslibEnvelope(payload(), PAYLOAD_TYPE, {})
    theirs.sign(signer)
    theirs.payload = payload().replace(b"acme", b"acne")
    with pytest.raises(VerificationError):
        theirs.verify([signer.public_key], threshold=1)
    with pytest.raises(EnvelopeError):
        verify_envelope(from_sslib(theirs), [clearroom_key(signer.public_key)])


def test_securesystemslib_needs_der_ecdsa_signatures():
    """Raw r‖s (what PKCS#11 tokens return) verifies in Clearroom but not in securesystemslib:
    anything Clearroom publishes must carry DER."""
    signer = FileSigner.generate("ecdsa-p256")
    envelope = sign_envelope(PAYLOAD_TYPE, payload(), [signer])
    raw = Envelope(
        PAYLOAD_TYPE,
        envelope.payload,
        (Signature(signer.public_key.keyid, der_to_raw(envelope.signatures[0].sig)),),
    )
    verify_envelope(raw, [signer.public_key])
    with pytest.raises(VerificationError):
        to_sslib(raw).verify([sslib_key(signer.public_key)], threshold=1)


def test_securesystemslib_needs_the_keyid_to_match():
    signer = FileSigner.generate()
    envelope = sign_envelope(PAYLOAD_TYPE, payload(), [signer])
    renamed = Envelope(
        PAYLOAD_TYPE, envelope.payload, (Signature("hint", envelope.signatures[0].sig),)
    )
    verify_envelope(renamed, [signer.public_key])
    with pytest.raises(VerificationError):
        to_sslib(renamed).verify([sslib_key(signer.public_key)], threshold=1)
