"""keys.py: Ed25519 and ECDSA P-256 keys, keyids, ECDSA signature encodings (DER and raw r‖s),
and key files — including the ones that must be refused."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from clearroom.attest.errors import BadKey
from clearroom.attest.keys import FileSigner, PublicKey, der_to_raw, raw_to_der

ALGORITHMS = ["ed25519", "ecdsa-p256"]
MESSAGE = b"DSSEv1 0  5 hello"


def pem_private(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_public(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_and_verify(algorithm):
    signer = FileSigner.generate(algorithm)
    assert signer.public_key.algorithm == algorithm
    signature = signer.sign(MESSAGE)
    assert signer.public_key.verify(signature, MESSAGE)
    assert not signer.public_key.verify(signature, MESSAGE + b"!")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_keyid_is_sha256_of_the_der_spki(algorithm):
    key = FileSigner.generate(algorithm).public_key
    assert key.keyid == hashlib.sha256(key.der).hexdigest()
    assert PublicKey.from_pem(key.to_pem()) == key
    assert PublicKey.from_der(key.der).keyid == key.keyid


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signature_by_another_key_does_not_verify(algorithm):
    signature = FileSigner.generate(algorithm).sign(MESSAGE)
    assert not FileSigner.generate(algorithm).public_key.verify(signature, MESSAGE)


def test_cross_algorithm_signatures_do_not_verify():
    ed, p256 = FileSigner.generate("ed25519"), FileSigner.generate("ecdsa-p256")
    assert not ed.public_key.verify(p256.sign(MESSAGE), MESSAGE)
    assert not p256.public_key.verify(ed.sign(MESSAGE), MESSAGE)  # 64 bytes: read as raw r‖s


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"\x30\x02\x01", b"\xff" * 64, b"\x00" * 72])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_garbage_signatures_are_false_not_exceptions(algorithm, garbage):
    assert FileSigner.generate(algorithm).public_key.verify(garbage, MESSAGE) is False


def test_ecdsa_signatures_are_der_and_raw_is_accepted_too():
    signer = FileSigner.generate("ecdsa-p256")
    der = signer.sign(MESSAGE)
    assert der[0] == 0x30  # SEQUENCE: FileSigner signs DER, like cryptography and Sigstore
    raw = der_to_raw(der)
    assert len(raw) == 64
    assert raw_to_der(raw) == der
    assert signer.public_key.verify(der, MESSAGE)
    assert signer.public_key.verify(raw, MESSAGE)
    tampered = raw[:63] + bytes([raw[63] ^ 1])
    assert not signer.public_key.verify(tampered, MESSAGE)


def test_raw_signature_from_a_token_verifies():
    """A PKCS#11 token hands back r‖s over a host-computed SHA-256: emulate it."""
    private = ec.generate_private_key(ec.SECP256R1())
    raw = der_to_raw(private.sign(MESSAGE, ec.ECDSA(hashes.SHA256())))
    assert FileSigner(private).public_key.verify(raw, MESSAGE)


def test_raw_and_der_conversion_refuse_bad_input():
    with pytest.raises(BadKey, match="64 bytes, not 63"):
        raw_to_der(b"\x01" * 63)
    with pytest.raises(BadKey, match="not DER"):
        der_to_raw(b"\x01" * 70)


@pytest.mark.parametrize(
    "private",
    [
        pytest.param(lambda: ec.generate_private_key(ec.SECP384R1()), id="p384"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP521R1()), id="p521"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256K1()), id="secp256k1"),
        pytest.param(lambda: rsa.generate_private_key(65537, 2048), id="rsa"),
    ],
)
def test_unsupported_keys_are_bad_keys(private):
    key = private()
    with pytest.raises(BadKey, match="only Ed25519 and ECDSA P-256"):
        FileSigner.from_pem(pem_private(key))
    with pytest.raises(BadKey, match="only Ed25519 and ECDSA P-256"):
        PublicKey.from_pem(pem_public(key))
    with pytest.raises(BadKey, match="only Ed25519 and ECDSA P-256"):
        PublicKey.from_der(
            key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        with pytest.raises(BadKey):
            FileSigner(key)


def test_generate_refuses_unknown_algorithms():
    with pytest.raises(BadKey, match="ed25519, ecdsa-p256"):
        FileSigner.generate("rsa")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", [b"", b"hello", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_not_a_public_key(text):
    with pytest.raises(BadKey, match="not a PEM public key"):
        PublicKey.from_pem(text)
    with pytest.raises(BadKey, match="not a DER"):
        PublicKey.from_der(text)


def test_a_label_that_disagrees_with_the_der_is_refused():
    ed = FileSigner.generate("ed25519").public_key
    p256 = FileSigner.generate("ecdsa-p256").public_key
    with pytest.raises(BadKey, match="is ed25519, not ecdsa-p256"):
        PublicKey("ecdsa-p256", ed.der)
    with pytest.raises(BadKey, match="is ecdsa-p256, not ed25519"):
        PublicKey("ed25519", p256.der)
    with pytest.raises(BadKey, match="not a DER"):
        PublicKey("ed25519", b"junk")


def test_encrypted_private_keys_are_refused():
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(BadKey, match="unencrypted PEM private key"):
        FileSigner.from_pem(pem)
    with pytest.raises(BadKey, match="unencrypted PEM private key"):
        FileSigner.from_pem(pem_public(key))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_save_writes_0600_and_round_trips(tmp_path, algorithm):
    signer = FileSigner.generate(algorithm)
    path = tmp_path / "signing.key"
    signer.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = FileSigner.from_file(path)
    assert loaded.public_key == signer.public_key
    assert signer.public_key.verify(loaded.sign(MESSAGE), MESSAGE)


def test_save_never_overwrites(tmp_path):
    path = tmp_path / "signing.key"
    first = FileSigner.generate()
    first.save(path)
    with pytest.raises(BadKey, match="refusing to overwrite"):
        FileSigner.generate().save(path)
    assert FileSigner.from_file(path).public_key == first.public_key


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o601])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "signing.key"
    FileSigner.generate().save(path)
    os.chmod(path, mode)
    with pytest.raises(BadKey, match="readable by others; chmod 600"):
        FileSigner.from_file(path)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_key_files_are_accepted(tmp_path, mode):
    path = tmp_path / "signing.key"
    FileSigner.generate().save(path)
    os.chmod(path, mode)
    FileSigner.from_file(path)


def test_missing_key_file(tmp_path):
    with pytest.raises(BadKey, match="cannot read the key"):
        FileSigner.from_file(tmp_path / "absent.key")


def test_key_file_holding_a_public_key(tmp_path):
    path = tmp_path / "signing.key"
    path.write_bytes(pem_public(ed25519.Ed25519PrivateKey.generate()))
    path.chmod(0o600)
    with pytest.raises(BadKey, match="unencrypted PEM private key"):
        FileSigner.from_file(path)


def test_key_file_of_a_gigabyte_is_refused_unread(tmp_path):
    path = tmp_path / "huge.key"
    with open(path, "wb") as f:
        f.truncate(1 << 30)  # sparse: a gigabyte the reader must not read
    os.chmod(path, 0o600)
    with pytest.raises(BadKey, match="over the limit of 65,536"):
        FileSigner.from_file(path)
