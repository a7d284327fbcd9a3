"""dsse.py: the pre-authentication encoding, envelopes with several signatures and thresholds,
and each way an envelope must fail — another key, a re-labelled or changed payload, malformed
JSON or base64. Keyids are hints only."""

from __future__ import annotations

import base64
import json
import re

import pytest

from clearroom.attest.dsse import (
    MAX_ENVELOPE_BYTES,
    Envelope,
    Signature,
    add_signature,
    pae,
    sign_envelope,
    verify_envelope,
)
from clearroom.attest.errors import EnvelopeError
from clearroom.attest.keys import FileSigner, der_to_raw
from clearroom.attest.statement import PAYLOAD_TYPE

ALGORITHMS = ["ed25519", "ecdsa-p256"]
BODY = b'{"_type":"https://in-toto.io/Statement/v1"}'


def test_pae_matches_the_spec_example():
    # secure-systems-lab/dsse protocol.md, "Test vectors"
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters():
    assert pae("t/\u00e9", b"\xff\x00") == b"DSSEv1 4 t/\xc3\xa9 2 \xff\x00"
    assert pae("", b"") == b"DSSEv1 0  0 "


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_round_trip_through_json(algorithm):
    signer = FileSigner.generate(algorithm)
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [signer])
    parsed = Envelope.from_json(envelope.to_json())
    assert parsed == envelope
    payload, keys = verify_envelope(parsed, [signer.public_key], payload_type=PAYLOAD_TYPE)
    assert payload == BODY
    assert keys == (signer.public_key,)
    doc = json.loads(envelope.to_json())
    assert doc["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(doc["payload"]) == BODY
    assert doc["signatures"][0]["keyid"] == signer.public_key.keyid


def test_multi_signature_envelope_and_thresholds():
    a, b, c = (FileSigner.generate(alg) for alg in ("ed25519", "ecdsa-p256", "ed25519"))
    envelope = add_signature(sign_envelope(PAYLOAD_TYPE, BODY, [a]), b)
    assert len(envelope.signatures) == 2
    trusted = [a.public_key, b.public_key, c.public_key]
    _, keys = verify_envelope(envelope, trusted, threshold=2)
    assert {k.keyid for k in keys} == {a.public_key.keyid, b.public_key.keyid}
    with pytest.raises(EnvelopeError, match="2 of the trusted keys signed the envelope, 3 needed"):
        verify_envelope(envelope, trusted, threshold=3)
    envelope = add_signature(envelope, c)
    assert len(verify_envelope(envelope, trusted, threshold=3)[1]) == 3


def test_one_key_signing_twice_counts_once():
    a = FileSigner.generate()
    envelope = add_signature(sign_envelope(PAYLOAD_TYPE, BODY, [a]), a)
    assert len(envelope.signatures) == 2
    with pytest.raises(EnvelopeError, match="1 of the trusted keys signed the envelope, 2 needed"):
        verify_envelope(envelope, [a.public_key], threshold=2)
    with pytest.raises(EnvelopeError, match="1 of the trusted keys"):
        verify_envelope(envelope, [a.public_key, a.public_key], threshold=2)


def test_untrusted_signatures_do_not_count():
    trusted, stranger = FileSigner.generate(), FileSigner.generate()
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [trusted, stranger])
    _, keys = verify_envelope(envelope, [trusted.public_key])
    assert keys == (trusted.public_key,)
    with pytest.raises(EnvelopeError, match="1 of the trusted keys signed the envelope, 2 needed"):
        verify_envelope(envelope, [trusted.public_key], threshold=2)


def test_threshold_below_one_is_refused():
    a = FileSigner.generate()
    with pytest.raises(EnvelopeError, match="threshold must be at least 1"):
        verify_envelope(sign_envelope(PAYLOAD_TYPE, BODY, [a]), [a.public_key], threshold=0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_by_another_key(algorithm):
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [FileSigner.generate(algorithm)])
    with pytest.raises(EnvelopeError, match="0 of the trusted keys"):
        verify_envelope(envelope, [FileSigner.generate(algorithm).public_key])


def test_no_trusted_keys():
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [FileSigner.generate()])
    with pytest.raises(EnvelopeError, match="0 of the trusted keys"):
        verify_envelope(envelope, [])


def test_payload_type_mismatch_is_refused_before_any_signature():
    signer = FileSigner.generate()
    envelope = sign_envelope("application/vnd.other+json", BODY, [signer])
    with pytest.raises(
        EnvelopeError, match=re.escape("payload type is 'application/vnd.other+json'")
    ):
        verify_envelope(envelope, [signer.public_key], payload_type=PAYLOAD_TYPE)


def test_relabelled_payload_type_breaks_the_signature():
    """The type is signed: changing it (even to the expected one) invalidates the envelope."""
    signer = FileSigner.generate()
    envelope = sign_envelope("text/plain", BODY, [signer])
    relabelled = Envelope(PAYLOAD_TYPE, envelope.payload, envelope.signatures)
    with pytest.raises(EnvelopeError, match="0 of the trusted keys"):
        verify_envelope(relabelled, [signer.public_key], payload_type=PAYLOAD_TYPE)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("index", [0, 1, len(BODY) // 2, len(BODY) - 1])
def test_changed_payload_byte(algorithm, index):
    signer = FileSigner.generate(algorithm)
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [signer])
    changed = bytearray(envelope.payload)
    changed[index] ^= 0x01
    tampered = Envelope(envelope.payload_type, bytes(changed), envelope.signatures)
    with pytest.raises(EnvelopeError, match="0 of the trusted keys"):
        verify_envelope(tampered, [signer.public_key])


def test_appended_payload_byte():
    signer = FileSigner.generate()
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [signer])
    longer = Envelope(envelope.payload_type, envelope.payload + b" ", envelope.signatures)
    with pytest.raises(EnvelopeError):
        verify_envelope(longer, [signer.public_key])


@pytest.mark.parametrize("keyid", ["", "wrong", "0" * 64])
def test_keyid_is_a_hint_only(keyid):
    signer = FileSigner.generate("ecdsa-p256")
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [signer])
    renamed = Envelope(
        envelope.payload_type, envelope.payload, (Signature(keyid, envelope.signatures[0].sig),)
    )
    payload, keys = verify_envelope(Envelope.from_json(renamed.to_json()), [signer.public_key])
    assert payload == BODY and keys == (signer.public_key,)


def test_a_keyid_naming_a_trusted_key_does_not_help_a_stranger():
    trusted, stranger = FileSigner.generate(), FileSigner.generate()
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [stranger])
    spoofed = Envelope(
        envelope.payload_type,
        envelope.payload,
        (Signature(trusted.public_key.keyid, envelope.signatures[0].sig),),
    )
    with pytest.raises(EnvelopeError, match="0 of the trusted keys"):
        verify_envelope(spoofed, [trusted.public_key])


def test_missing_keyid_is_allowed():
    signer = FileSigner.generate()
    doc = json.loads(sign_envelope(PAYLOAD_TYPE, BODY, [signer]).to_json())
    del doc["signatures"][0]["keyid"]
    envelope = Envelope.from_json(json.dumps(doc).encode())
    assert envelope.signatures[0].keyid == ""
    verify_envelope(envelope, [signer.public_key])


def test_raw_and_der_ecdsa_signatures_both_verify():
    signer = FileSigner.generate("ecdsa-p256")
    envelope = sign_envelope(PAYLOAD_TYPE, BODY, [signer])
    der = envelope.signatures[0].sig
    raw = Envelope(PAYLOAD_TYPE, BODY, (Signature("", der_to_raw(der)),))
    assert len(raw.signatures[0].sig) == 64
    for candidate in (envelope, raw):
        assert (
            verify_envelope(Envelope.from_json(candidate.to_json()), [signer.public_key])[0] == BODY
        )


def test_url_safe_and_unpadded_base64_are_accepted():
    signer = FileSigner.generate()
    envelope = sign_envelope(PAYLOAD_TYPE, b"\xfb\xff\xfe?", [signer])
    doc = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.urlsafe_b64encode(envelope.payload).decode().rstrip("="),
        "signatures": [
            {"sig": base64.urlsafe_b64encode(envelope.signatures[0].sig).decode().rstrip("=")}
        ],
    }
    assert verify_envelope(Envelope.from_dict(doc), [signer.public_key])[0] == b"\xfb\xff\xfe?"


def good_doc() -> dict:
    return json.loads(sign_envelope(PAYLOAD_TYPE, BODY, [FileSigner.generate()]).to_json())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'"envelope"', "not a JSON object"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_json(data, message):
    with pytest.raises(EnvelopeError, match=message):
        Envelope.from_json(data)


def test_oversized_envelope():
    with pytest.raises(EnvelopeError, match="larger than"):
        Envelope.from_json(b" " * (MAX_ENVELOPE_BYTES + 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("payloadType"), "no payloadType"),
        (lambda d: d.update(payloadType=""), "no payloadType"),
        (lambda d: d.update(payloadType=7), "no payloadType"),
        (lambda d: d.pop("payload"), "no payload"),
        (lambda d: d.update(payload=None), "no payload"),
        (lambda d: d.pop("signatures"), "no signatures"),
        (lambda d: d.update(signatures=[]), "no signatures"),
        (lambda d: d.update(signatures={}), "no signatures"),
        (lambda d: d.update(signatures=["sig"]), "has no 'sig'"),
        (lambda d: d["signatures"][0].pop("sig"), "has no 'sig'"),
        (lambda d: d["signatures"][0].update(sig=12), "has no 'sig'"),
        (lambda d: d["signatures"][0].update(keyid=1), "keyid is not a string"),
        (lambda d: d["signatures"][0].update(keyid=None), "keyid is not a string"),
        (lambda d: d.update(payload="not base64!"), "payload is not base64"),
        (lambda d: d.update(payload="a"), "payload is not base64"),
        (lambda d: d.update(payload="YW Jj"), "payload is not base64"),
        (lambda d: d["signatures"][0].update(sig="%%%%"), "signature is not base64"),
    ],
)
def test_malformed_envelopes(change, message):
    doc = good_doc()
    change(doc)
    with pytest.raises(EnvelopeError, match=message):
        Envelope.from_json(json.dumps(doc).encode())


def test_sign_needs_a_signer():
    with pytest.raises(EnvelopeError, match="at least one signer"):
        sign_envelope(PAYLOAD_TYPE, BODY, [])
