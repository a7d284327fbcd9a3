"""pkcs11.py: keys on a real PKCS#11 token (a fresh SoftHSM2 token per test) sign DSSE
envelopes and log checkpoints that the ordinary verifiers accept; every way of naming a key
wrongly gives its own error."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from clearroom.attest.dsse import pae, sign_envelope, verify_envelope
from clearroom.attest.errors import BadKey
from clearroom.attest.keys import PublicKey
from clearroom.attest.pkcs11 import (
    Pkcs11Signer,
    generate_on_token,
    note_signer,
    open_pkcs11_signer,
    parse_pkcs11_uri,
)
from clearroom.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from clearroom.tlog.note import Verifier, open_note, sign
from tests.softhsm import LABEL, PIN, Token

pkcs11 = pytest.importorskip("pkcs11")

PAYLOAD_TYPE = "application/vnd.in-toto+json"
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@pytest.fixture
def token(softhsm: Token) -> Token:
    return softhsm


def _token_public_spki(token: Token, label: str) -> bytes:
    """The key's SubjectPublicKeyInfo as exported from the token's public key object, encoded
    independently of clearroom.attest.pkcs11."""
    session = pkcs11.lib(token.module).get_token(token_label=token.label).open()
    try:
        public = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label=label)
        if public.key_type == pkcs11.KeyType.EC:
            return pkcs11.util.ec.encode_ec_public_key(public)
        point = bytes(public[pkcs11.Attribute.EC_POINT])
        assert point[:2] == b"\x04\x20"  # DER OCTET STRING of 32 bytes
        return ED25519_SPKI_PREFIX + point[2:]
    finally:
        session.close()


# --- keys made on the token sign what the verifiers accept ----------------------------------


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256"])
def test_token_key_signs_a_dsse_envelope_the_verifier_accepts(token, algorithm):
    statement = b'{"_type":"https://in-toto.io/Statement/v1"}'
    with generate_on_token(token.module, token.label, "release", token.pin, algorithm) as signer:
        assert signer.public_key.algorithm == algorithm
        envelope = sign_envelope(PAYLOAD_TYPE, statement, [signer])
    payload, keys = verify_envelope(envelope, [signer.public_key], payload_type=PAYLOAD_TYPE)
    assert payload == statement
    assert keys == (signer.public_key,)
    assert envelope.signatures[0].keyid == signer.public_key.keyid

    # cryptography, on its own, agrees.
    key = serialization.load_der_public_key(signer.public_key.der)
    signature = envelope.signatures[0].sig
    if algorithm == "ed25519":
        assert isinstance(key, ed25519.Ed25519PublicKey)
        key.verify(signature, pae(PAYLOAD_TYPE, statement))
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, pae(PAYLOAD_TYPE, statement), ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256"])
def test_keyid_equals_the_keyid_of_the_exported_public_key(token, algorithm):
    with generate_on_token(token.module, token.label, "k", token.pin, algorithm) as signer:
        exported = _token_public_spki(token, "k")
        assert signer.public_key.der == exported
        assert signer.public_key.keyid == hashlib.sha256(exported).hexdigest()
        assert PublicKey.from_der(exported) == signer.public_key


def test_token_key_reopened_by_uri_is_the_same_key(token):
    with generate_on_token(token.module, token.label, "release", token.pin) as made:
        pass
    with open_pkcs11_signer(token.uri("release")) as signer:
        assert signer.public_key == made.public_key
        assert signer.public_key.verify(signer.sign(b"hello"), b"hello")


def test_uri_values_are_percent_decoded_and_pin_source_is_read(token, tmp_path):
    label = "release key/2025 é"
    pin_file = tmp_path / "pin"
    pin_file.write_text(token.pin + "\n")
    with generate_on_token(token.module, token.label, label, token.pin, "ecdsa-p256") as made:
        pass
    uri = token.uri(label).replace(f"pin-value={token.pin}", f"pin-source=file:{pin_file}")
    assert "%20" in uri and "%2F" in uri and "pin-value" not in uri
    with open_pkcs11_signer(uri) as signer:
        assert signer.public_key == made.public_key


def test_signers_on_one_token_share_its_login(token):
    a = generate_on_token(token.module, token.label, "a", token.pin)
    b = generate_on_token(token.module, token.label, "b", token.pin, "ecdsa-p256")
    with pytest.raises(BadKey, match="wrong PIN"):
        Pkcs11Signer(token.module, token.label, "a", "0000")
    a.close()
    a.close()  # idempotent
    assert b.public_key.verify(b.sign(b"still logged in"), b"still logged in")
    with pytest.raises(BadKey, match="closed"):
        a.sign(b"x")
    b.close()


def test_signing_from_many_threads(token):
    with generate_on_token(token.module, token.label, "busy", token.pin, "ecdsa-p256") as signer:
        results: list[bool] = []

        def work(n: int) -> None:
            for i in range(20):
                message = b"%d-%d" % (n, i)
                results.append(signer.public_key.verify(signer.sign(message), message))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [True] * 160


# --- checkpoints signed by the token --------------------------------------------------------


def test_note_signed_on_the_token_opens_with_the_log_verifier(token):
    origin = "log.example.com/clearroom"
    with generate_on_token(token.module, token.label, "log", token.pin) as signer:
        raw = _token_public_spki(token, "log")[len(ED25519_SPKI_PREFIX) :]
        verifier = Verifier.for_public_key(origin, raw)
        hsm = note_signer(signer, origin)
        assert hsm.key_id == verifier.key_id
        assert hsm.verifier() == verifier

        checkpoint = Checkpoint(origin, 7, hashlib.sha256(b"root").digest())
        opened, cosignatures = open_checkpoint(sign_checkpoint(checkpoint, hsm), verifier)
        assert opened == checkpoint
        assert cosignatures == ()

        note = open_note(sign("hello\n", [hsm]).encode(), [verifier])
        assert note.text == "hello\n"
        assert [s.key for s in note.verified_signatures] == [f"{origin}+{verifier.key_id:08x}"]


def test_note_signer_refuses_a_p256_key(token):
    with (
        generate_on_token(token.module, token.label, "p", token.pin, "ecdsa-p256") as signer,
        pytest.raises(BadKey, match="signed notes need an Ed25519 key"),
    ):
        note_signer(signer, "log.example.com")


def test_note_signer_refuses_an_invalid_key_name(token):
    with (
        generate_on_token(token.module, token.label, "n", token.pin) as signer,
        pytest.raises(BadKey, match="invalid note key name"),
    ):
        note_signer(signer, "has space")


# --- each wrong name, its own error ---------------------------------------------------------


def test_wrong_pin(token):
    generate_on_token(token.module, token.label, "k", token.pin).close()
    with pytest.raises(BadKey, match=f"wrong PIN for PKCS#11 token '{LABEL}'"):
        open_pkcs11_signer(token.uri("k", **{"pin-value": "9999"}))


def test_missing_object(token):
    with pytest.raises(
        BadKey, match=f"no private key labelled 'absent' on PKCS#11 token '{LABEL}'"
    ):
        open_pkcs11_signer(token.uri("absent"))


def test_missing_token(token):
    uri = token.uri("k").replace(f"token={LABEL}", "token=no-such-token")
    with pytest.raises(BadKey, match="no PKCS#11 token labelled 'no-such-token'"):
        open_pkcs11_signer(uri)


def test_missing_module(token):
    with pytest.raises(BadKey, match=r"PKCS#11 module /nonexistent/libp11\.so does not exist"):
        open_pkcs11_signer(token.uri("k", **{"module-path": "/nonexistent/libp11.so"}))


def test_unsupported_key_type(token):
    session = (
        pkcs11.lib(token.module).get_token(token_label=token.label).open(rw=True, user_pin=PIN)
    )
    try:
        session.generate_keypair(pkcs11.KeyType.RSA, 2048, label="rsa", store=True)
    finally:
        session.close()
    with pytest.raises(BadKey, match="only Ed25519 and ECDSA P-256 are supported"):
        open_pkcs11_signer(token.uri("rsa"))


def test_generate_refuses_to_replace_a_key(token):
    generate_on_token(token.module, token.label, "k", token.pin).close()
    with pytest.raises(BadKey, match="already holds 'k'; refusing to replace a key"):
        generate_on_token(token.module, token.label, "k", token.pin, "ecdsa-p256")


MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("token=t;object=k", "starting with pkcs11:"),
        (f"pkcs11:object=k?module-path={MODULE}&pin-value=1", "no token="),
        (f"pkcs11:token=t?module-path={MODULE}&pin-value=1", r"no object= \(the key label\)"),
        ("pkcs11:token=t;object=k?pin-value=1", "no module-path="),
        (f"pkcs11:token=t;object=k?module-path={MODULE}", "no pin-value= or pin-source="),
        (
            f"pkcs11:token=t;object=k?module-path={MODULE}&pin-value=1&pin-source=file:/p",
            "both pin-value and pin-source",
        ),
        (
            f"pkcs11:token=t;object=k;slot-id=3?module-path={MODULE}&pin-value=1",
            "'slot-id' is not supported",
        ),
        (
            "pkcs11:token=t;object=k?module-name=softhsm2&pin-value=1",
            "'module-name' is not supported",
        ),
        (
            f"pkcs11:token=t;token=u;object=k?module-path={MODULE}&pin-value=1",
            "'token' appears twice",
        ),
        (
            f"pkcs11:token=t;object=k;type=cert?module-path={MODULE}&pin-value=1",
            "must name a private key",
        ),
        (f"pkcs11:token=t;objectk?module-path={MODULE}&pin-value=1", "is not name=value"),
        (f"pkcs11:token=%ff;object=k?module-path={MODULE}&pin-value=1", "token is not UTF-8"),
        (f"pkcs11:token=t;object=k?module-path={MODULE}&pin-source=relative/pin", "absolute path"),
        (
            f"pkcs11:token=t;object=k?module-path={MODULE}&pin-source=file:/nonexistent/pin",
            "cannot read the PKCS#11 PIN file /nonexistent/pin",
        ),
    ],
)
def test_bad_uri(uri, message):
    with pytest.raises(BadKey, match=message) as caught:
        open_pkcs11_signer(uri)
    assert "pin-value=1" not in str(caught.value)  # a PIN is never echoed


def test_parsed_uri_hides_the_pin():
    parsed = parse_pkcs11_uri(f"pkcs11:token=t;id=%01%02?module-path={MODULE}&pin-value=s3cret")
    assert parsed.id == b"\x01\x02"
    assert parsed.label is None
    assert "s3cret" not in repr(parsed)


def test_missing_library_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pkcs11", None)  # import pkcs11 now raises ImportError
    with pytest.raises(BadKey, match="install python-pkcs11"):
        open_pkcs11_signer(f"pkcs11:token=t;object=k?module-path={MODULE}&pin-value=1")


def test_importing_the_module_does_not_load_the_library():
    code = "import sys, clearroom.attest.pkcs11; print('pkcs11' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
