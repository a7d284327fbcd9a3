"""Signature keys: Ed25519 and ECDSA P-256, as public keys anyone can check and signers that
hold the private half (a key file here; a PKCS#11 token in :mod:`clearroom.attest.pkcs11`).

Why one small module: the offline verifier must run with ``cryptography`` and the standard
library only, so everything it needs about keys lives here. A key is named by its ``keyid``:
the hex SHA-256 of its DER SubjectPublicKeyInfo, the same rule for every algorithm, so two
parties holding the same public key compute the same name (a DSSE keyid is only a hint; the
signature is what is checked).

ECDSA signatures are produced in DER (as securesystemslib, in-toto and Sigstore do); raw
``r‖s`` (64 bytes, as PKCS#11 tokens and some DSSE implementations give) is accepted too.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from clearroom.attest.errors import BadKey
from clearroom.untrusted import MAX_KEY_FILE_BYTES, InputError, read_capped

Algorithm = Literal["ed25519", "ecdsa-p256"]
ALGORITHMS: tuple[Algorithm, ...] = ("ed25519", "ecdsa-p256")
P256_SCALAR = 32


def raw_to_der(signature: bytes) -> bytes:
    """ECDSA ``r‖s`` (64 bytes for P-256) → DER."""
    if len(signature) != 2 * P256_SCALAR:
        raise BadKey(f"attest: a raw P-256 signature is 64 bytes, not {len(signature)}")
    r = int.from_bytes(signature[:P256_SCALAR], "big")
    s = int.from_bytes(signature[P256_SCALAR:], "big")
    return encode_dss_signature(r, s)


def der_to_raw(signature: bytes) -> bytes:
    """ECDSA DER → ``r‖s`` (64 bytes for P-256)."""
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise BadKey("attest: the ECDSA signature is not DER") from None
    return r.to_bytes(P256_SCALAR, "big") + s.to_bytes(P256_SCALAR, "big")


@dataclass(frozen=True)
class PublicKey:
    """A public key: its algorithm and its DER SubjectPublicKeyInfo."""

    algorithm: Algorithm
    der: bytes

    def __post_init__(self) -> None:
        # The algorithm is stored beside the DER (registries, bundles): refuse a pair that
        # disagrees, so a key labelled Ed25519 can never verify as something else.
        try:
            key = serialization.load_der_public_key(self.der)
        except (ValueError, TypeError):
            raise BadKey("attest: not a DER SubjectPublicKeyInfo") from None
        if isinstance(key, ed25519.Ed25519PublicKey):
            actual = "ed25519"
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            actual = "ecdsa-p256"
        else:
            raise BadKey("attest: only Ed25519 and ECDSA P-256 keys are supported")
        if actual != self.algorithm:
            raise BadKey(f"attest: the key is {actual}, not {self.algorithm}")

    @property
    def keyid(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @classmethod
    def from_pem(cls, pem: bytes | str) -> PublicKey:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise BadKey("attest: not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
        return cls.from_cryptography(key)

    @classmethod
    def from_der(cls, der: bytes) -> PublicKey:
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError):
            raise BadKey("attest: not a DER SubjectPublicKeyInfo") from None
        return cls.from_cryptography(key)

    @classmethod
    def from_cryptography(cls, key: object) -> PublicKey:
        if isinstance(key, ed25519.Ed25519PublicKey):
            algorithm: Algorithm = "ed25519"
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            algorithm = "ecdsa-p256"
        else:
            raise BadKey("attest: only Ed25519 and ECDSA P-256 keys are supported")
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(algorithm, der)

    def to_pem(self) -> str:
        return (
            self._load()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def _load(self) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
        key = serialization.load_der_public_key(self.der)
        assert isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey)
        return key

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's over ``message`` (ECDSA: SHA-256; DER or raw)."""
        key = self._load()
        try:
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, message)
            else:
                if len(signature) == 2 * P256_SCALAR:
                    signature = raw_to_der(signature)
                key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, BadKey, ValueError):
            return False
        return True


class Signer(Protocol):
    """Anything that signs with a private key: a key file, a PKCS#11 token."""

    @property
    def public_key(self) -> PublicKey: ...
    def sign(self, message: bytes) -> bytes: ...


class FileSigner:
    """A private key held in a PEM file (PKCS#8, unencrypted, mode 0600)."""

    def __init__(self, private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        self._key = private_key
        self.public_key = PublicKey.from_cryptography(private_key.public_key())

    @classmethod
    def generate(cls, algorithm: Algorithm = "ed25519") -> FileSigner:
        if algorithm == "ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate())
        if algorithm == "ecdsa-p256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        raise BadKey(f"attest: algorithm must be one of {', '.join(ALGORITHMS)}")

    @classmethod
    def from_pem(cls, pem: bytes) -> FileSigner:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise BadKey(
                "attest: not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)"
            ) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise BadKey("attest: only Ed25519 and ECDSA P-256 keys are supported")
        return cls(key)  # PublicKey.from_cryptography refuses curves other than P-256

    @classmethod
    def from_file(cls, path: Path) -> FileSigner:
        try:
            if path.stat().st_mode & 0o077:
                raise BadKey(f"attest: {path} is readable by others; chmod 600 it")
            return cls.from_pem(read_capped(path, MAX_KEY_FILE_BYTES, what="attest: key"))
        except InputError as exc:
            raise BadKey(f"attest: cannot read the key {path}: {exc}") from None
        except OSError as exc:
            raise BadKey(f"attest: cannot read the key {path}: {exc.strerror}") from None

    def to_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def save(self, path: Path) -> None:
        """Write the private key (mode 0600); never overwrites."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise BadKey(f"attest: {path} exists; refusing to overwrite a key") from None
        with os.fdopen(fd, "wb") as f:
            f.write(self.to_pem())

    def sign(self, message: bytes) -> bytes:
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(message)
        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))
