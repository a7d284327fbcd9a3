"""C2SP signed notes with Ed25519 (type 0x01) and tlog-cosignature/v1 (type 0x04).

Why: checkpoints, witness cosignatures and everything the log signs travel as signed notes,
the format Go's ``golang.org/x/mod/sumdb/note``, Tessera, Sunlight and the public witnesses
speak. Opening a note is a pure function over bytes with hard limits (size, signature count),
so an auditor can run it on anything a network hands over. The key strings are Go's:
``name+hex8+base64(type ‖ public key)`` and ``PRIVATE+KEY+name+hex8+base64(type ‖ seed)``.

Example::

    skey, vkey = generate_key("example.com/log")
    signed = sign("hello\\n", [parse_signer_key(skey)])
    note = open_note(signed.encode(), [parse_verifier_key(vkey)])
    assert note.text == "hello\\n"
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature as _BadEd25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat
from cryptography.hazmat.primitives.serialization import NoEncryption as _NoEncryption

from clearroom.tlog.errors import InvalidKey, InvalidNote, InvalidSignature, UnverifiedNote

__all__ = [
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Note",
    "NoteSigner",
    "NoteVerifier",
    "Signature",
    "Signer",
    "Verifier",
    "cosignature_message",
    "cosignature_timestamp",
    "generate_key",
    "key_id",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign",
    "signature_lines",
]

SIG_ED25519 = 0x01
"""Signature type byte of plain Ed25519 note signatures (C2SP signed-note)."""
SIG_COSIGNATURE_V1 = 0x04
"""Signature type byte of timestamped Ed25519 witness cosignatures (C2SP tlog-cosignature)."""
MAX_NOTE_SIZE = 1 << 20
"""Notes larger than 1 MiB are refused before any parsing."""
MAX_SIGNATURES = 100
"""More signature lines than this are refused (the spec asks verifiers to accept at least 16)."""

_EM_DASH = "\u2014"
_SIG_PREFIX = (_EM_DASH + " ").encode()
_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_MAX_TIMESTAMP = (1 << 63) - 1


def b64decode_strict(text: str) -> bytes | None:
    """Strict standard base64: alphabet and padding checked, and canonical (re-encodes equal)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty with no Unicode spaces, no ``+`` and no control characters."""
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a big-endian uint32 (signed-note)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: ``cosignature/v1\\ntime <ts>\\n`` then the checkpoint text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


class NoteSigner(Protocol):
    """Signs note text. ``sign`` returns the signature bytes that follow the 4-byte key ID."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    def sign(self, text: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    """Checks one key's signatures over note text (without the 4-byte key ID)."""

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    def verify(self, text: bytes, signature: bytes) -> bool: ...


class LogSigner(NoteSigner, Protocol):
    """A log's checkpoint key (a key file, or a key on a PKCS#11 token) and its public half."""

    def verifier(self) -> Verifier: ...


# --- verifiers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note key (type 0x01): name, key ID and 32-byte public key. The key ID must be
    the one the name and key imply; a mismatch is a configuration error (:class:`InvalidKey`)."""

    SIG_TYPE: ClassVar[int] = SIG_ED25519

    name: str
    key_id: int
    public_key: bytes
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise InvalidKey(f"tlog: invalid key name {self.name!r}")
        if len(self.public_key) != 32:
            raise InvalidKey(f"tlog: an Ed25519 public key is 32 bytes, not {len(self.public_key)}")
        want = key_id(self.name, self.SIG_TYPE, self.public_key)
        if self.key_id != want:
            raise InvalidKey(
                f"tlog: key ID {self.key_id:08x} does not match key {self.name!r} (want {want:08x})"
            )
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @classmethod
    def for_public_key(cls, name: str, public_key: bytes) -> Verifier:
        return cls(name, key_id(name, cls.SIG_TYPE, public_key), public_key)

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse ``name+hex8+base64(type ‖ key)`` of this class's signature type."""
        name, kid, sig_type, key = _split_key(vkey, "verifier")
        if sig_type != cls.SIG_TYPE:
            raise InvalidKey(
                f"tlog: key {name}+{kid:08x} has type {sig_type:#04x}, not {cls.SIG_TYPE:#04x}"
            )
        return cls(name, kid, key)

    def to_key(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([self.SIG_TYPE]) + self.public_key)}"

    def _check(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, message)
        except _BadEd25519:
            return False
        return True

    def verify(self, text: bytes, signature: bytes) -> bool:
        return len(signature) == 64 and self._check(text, signature)


@dataclass(frozen=True)
class CosignatureVerifier(Verifier):
    """A witness's cosignature/v1 key (type 0x04). Its signatures are an 8-byte big-endian
    timestamp then Ed25519 over :func:`cosignature_message`."""

    SIG_TYPE: ClassVar[int] = SIG_COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return False
        return self._check(cosignature_message(text, timestamp), signature[8:])


def _split_key(key: str, what: str) -> tuple[str, int, int, bytes]:
    """``name+hex8+base64(type ‖ key material)`` split on the first two ``+`` only: base64
    contains ``+`` itself."""
    parts = key.split("+", 2)
    raw = b64decode_strict(parts[2]) if len(parts) == 3 else None
    if not raw or not is_valid_key_name(parts[0]) or not _HEX8.fullmatch(parts[1]):
        raise InvalidKey(f"tlog: malformed {what} key (want name+hex8+base64)")
    return parts[0], int(parts[1], 16), raw[0], raw[1:]


def parse_verifier_key(vkey: str) -> Verifier:
    """A :class:`Verifier` (type 0x01) or :class:`CosignatureVerifier` (type 0x04)."""
    name, kid, sig_type, key = _split_key(vkey, "verifier")
    cls = {SIG_ED25519: Verifier, SIG_COSIGNATURE_V1: CosignatureVerifier}.get(sig_type)
    if cls is None:
        raise InvalidKey(f"tlog: verifier key {name}+{kid:08x} has unknown type {sig_type:#04x}")
    return cls(name, kid, key)


# --- signers -------------------------------------------------------------------------------


class Signer:
    """An Ed25519 note signer (type 0x01). Holds the private key; its repr does not show it."""

    SIG_TYPE: ClassVar[int] = SIG_ED25519
    VERIFIER: ClassVar[type[Verifier]] = Verifier
    __slots__ = ("_private", "key_id", "name", "public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey | bytes) -> None:
        if not is_valid_key_name(name):
            raise InvalidKey(f"tlog: invalid key name {name!r}")
        if isinstance(private_key, bytes):
            if len(private_key) != 32:
                raise InvalidKey(f"tlog: an Ed25519 seed is 32 bytes, not {len(private_key)}")
            private_key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.name = name
        self._private = private_key
        self.public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, self.SIG_TYPE, self.public_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, key_id={self.key_id:08x})"

    def sign(self, text: bytes) -> bytes:
        return self._private.sign(text)

    def verifier(self) -> Verifier:
        return self.VERIFIER(self.name, self.key_id, self.public_key)

    def to_key(self) -> str:
        """The secret ``PRIVATE+KEY+name+hex8+base64(type ‖ seed)`` string: keep it secret."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, _NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64(bytes([self.SIG_TYPE]) + seed)}"


class CosignatureSigner(Signer):
    """A witness's cosignature/v1 signer (type 0x04). ``clock`` gives POSIX seconds."""

    SIG_TYPE: ClassVar[int] = SIG_COSIGNATURE_V1
    VERIFIER: ClassVar[type[Verifier]] = CosignatureVerifier
    __slots__ = ("clock",)

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey | bytes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, private_key)
        self.clock = clock

    def sign(self, text: bytes) -> bytes:
        timestamp = int(self.clock())
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise InvalidKey(f"tlog: cosignature timestamp {timestamp} is outside 0..2^63-1")
        signature = self._private.sign(cosignature_message(text, timestamp))
        return timestamp.to_bytes(8, "big") + signature


def parse_signer_key(skey: str, *, clock: Callable[[], float] = time.time) -> Signer:
    """A :class:`Signer` or :class:`CosignatureSigner` from ``PRIVATE+KEY+name+hex8+base64``.
    The key ID is checked against the public key derived from the seed."""
    if not skey.startswith("PRIVATE+KEY+"):
        raise InvalidKey("tlog: a signer key reads PRIVATE+KEY+name+hex8+base64")
    name, kid, sig_type, seed = _split_key(skey.removeprefix("PRIVATE+KEY+"), "signer")
    if sig_type == SIG_ED25519:
        signer = Signer(name, seed)
    elif sig_type == SIG_COSIGNATURE_V1:
        signer = CosignatureSigner(name, seed, clock=clock)
    else:
        raise InvalidKey(f"tlog: signer key {name}+{kid:08x} has unknown type {sig_type:#04x}")
    if signer.key_id != kid:
        raise InvalidKey(f"tlog: signer key {name}+{kid:08x} does not match its private key")
    return signer


def generate_key(name: str, *, cosignature: bool = False) -> tuple[str, str]:
    """A fresh Ed25519 key: (secret signer key string, verifier key string). With
    ``cosignature=True``, a witness's cosignature/v1 key (type 0x04)."""
    signer = (CosignatureSigner if cosignature else Signer)(name, Ed25519PrivateKey.generate())
    return signer.to_key(), signer.verifier().to_key()


# --- notes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID, and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes

    @property
    def key(self) -> str:
        return f"{self.name}+{self.key_id:08x}"

    def line(self) -> str:
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_EM_DASH} {self.name} {_b64(raw)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text (with the final newline) and its signatures, verified ones
    (one per known key) and the others (unknown keys, duplicates dropped)."""

    text: str
    verified_signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def cosignature_timestamp(signature: Signature) -> int:
    """The POSIX time inside a cosignature/v1 signature."""
    if len(signature.signature) != 8 + 64:
        raise InvalidNote(f"tlog: signature by {signature.key} is not a cosignature/v1")
    return int.from_bytes(signature.signature[:8], "big")


def _check_text(text: str) -> bytes:
    raw = text.encode()
    if not raw.endswith(b"\n"):
        raise InvalidNote("tlog: note text must end with a newline")
    if _CONTROL.search(raw):
        raise InvalidNote("tlog: note text contains control characters other than newline")
    return raw


def signature_lines(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signature lines alone, as a witness returns them: append them to a signed note."""
    raw = _check_text(text)
    lines = []
    for signer in signers:
        if not is_valid_key_name(signer.name):
            raise InvalidKey(f"tlog: invalid key name {signer.name!r}")
        lines.append(Signature(signer.name, signer.key_id, signer.sign(raw)).line())
    return "".join(lines)


def sign(text: str, signers: Sequence[NoteSigner]) -> str:
    """``text`` (ending in a newline; blank lines allowed), a blank line, one line per signer."""
    if not signers:
        raise InvalidNote("tlog: a note needs at least one signer")
    return text + "\n" + signature_lines(text, signers)


def open_note(
    message: bytes,
    verifiers: Iterable[NoteVerifier],
    *,
    max_size: int = MAX_NOTE_SIZE,
    max_signatures: int = MAX_SIGNATURES,
) -> Note:
    """Parse ``message`` and check it against ``verifiers`` (C2SP signed-note).

    Signatures by unknown keys are kept as unverified; every signature by a known key must
    verify (else :class:`InvalidSignature`); at least one must (else :class:`UnverifiedNote`).
    Malformed input raises :class:`InvalidNote`."""
    # Limits first, before any work proportional to the input.
    if len(message) > max_size:
        raise InvalidNote(f"tlog: note is {len(message)} bytes, over the {max_size}-byte limit")
    try:
        message.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNote("tlog: note is not valid UTF-8") from None
    if _CONTROL.search(message):
        raise InvalidNote("tlog: note contains control characters other than newline")
    split = message.rfind(b"\n\n")  # the last blank line separates text from signatures
    if split < 0:
        raise InvalidNote("tlog: note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith(b"\n"):
        raise InvalidNote("tlog: note's signature block is empty or not newline-terminated")
    lines = block[:-1].split(b"\n")
    if len(lines) > max_signatures:
        raise InvalidNote(
            f"tlog: note has {len(lines)} signatures, over the limit of {max_signatures}"
        )

    known: dict[tuple[str, int], NoteVerifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if other is not v and other != v:
            raise InvalidKey(f"tlog: two different verifiers for key {v.name}+{v.key_id:08x}")

    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for line in lines:
        sig = _parse_line(line)
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.setdefault(sig)
            continue
        if not verifier.verify(text, sig.signature):
            raise InvalidSignature(
                f"tlog: invalid signature for key {sig.key}: the note was altered or forged",
                name=sig.name,
                key_id=sig.key_id,
            )
        verified.setdefault((sig.name, sig.key_id), sig)

    note_text = text.decode()
    if not verified:
        signers = tuple(s.key for s in unverified)
        raise UnverifiedNote(
            "tlog: note has no signature from a trusted key (signed by: "
            f"{', '.join(signers) or 'nobody'})",
            text=note_text,
            signers=signers,
        )
    return Note(note_text, tuple(verified.values()), tuple(unverified))


def _parse_line(line: bytes) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise InvalidNote("tlog: note signature line does not start with an em dash and a space")
    name, sep, b64 = line[len(_SIG_PREFIX) :].decode().partition(" ")
    if not sep or not is_valid_key_name(name):
        raise InvalidNote(f"tlog: note signature line has a bad key name {name!r}")
    raw = b64decode_strict(b64)
    if raw is None:
        raise InvalidNote(f"tlog: signature by {name!r} is not valid base64")
    if len(raw) < 5:
        raise InvalidNote(f"tlog: signature by {name!r} is too short ({len(raw)} bytes)")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])
