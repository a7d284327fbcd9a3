"""C2SP tlog-checkpoint: the log's signed statement "my tree of N leaves has this root".

Why: a checkpoint is what clients, monitors and witnesses compare to detect a log that forks
or rewrites history, so it is parsed strictly (one spelling per value, nothing guessed) and
only after the log's signature has been checked: the text of a note is ignored unless a
trusted key signed it. The origin is checked against the one the caller expects, so a
checkpoint of one log can never be passed off as another's.

Example::

    skey, vkey = generate_key("example.com/log")
    cp = Checkpoint("example.com/log", 3, root)
    signed = sign_checkpoint(cp, parse_signer_key(skey))
    same, cosigs = open_checkpoint(signed, parse_verifier_key(vkey))
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from clearroom.tlog.errors import InvalidCheckpoint, UnverifiedNote, WrongOrigin
from clearroom.tlog.hashing import HASH_SIZE
from clearroom.tlog.note import (
    MAX_NOTE_SIZE,
    NoteSigner,
    NoteVerifier,
    Signature,
    b64decode_strict,
    cosignature_timestamp,
    open_note,
    sign,
)
from clearroom.untrusted import parse_decimal

__all__ = ["Checkpoint", "Cosignature", "open_checkpoint", "sign_checkpoint"]

_MAX_SIZE = (1 << 64) - 1


def _check_line(value: str, what: str) -> None:
    if not value:
        raise InvalidCheckpoint(f"tlog: checkpoint {what} is empty")
    if any(c < " " for c in value):
        raise InvalidCheckpoint(f"tlog: checkpoint {what} {value!r} contains control characters")


@dataclass(frozen=True)
class Checkpoint:
    """Origin, tree size, root hash, and the optional opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= _MAX_SIZE:
            raise InvalidCheckpoint(f"tlog: checkpoint size {self.size} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise InvalidCheckpoint(
                f"tlog: checkpoint root hash is {len(self.root_hash)} bytes, not {HASH_SIZE}"
            )
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "extension line")

    def to_text(self) -> str:
        """The note text: origin, decimal size, base64 root, extension lines, each ending in a
        newline."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root_hash).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint in a note's text, strictly: no leading zeros, no sign, no spaces,
        canonical base64 of exactly 32 bytes, no empty lines."""
        if not text.endswith("\n"):
            raise InvalidCheckpoint("tlog: checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidCheckpoint(
                f"tlog: checkpoint has {len(lines)} lines; it needs origin, size and root hash"
            )
        origin, size_line, root_line, *extensions = lines
        size = parse_decimal(size_line, limit=_MAX_SIZE)
        if size is None:
            raise InvalidCheckpoint(
                f"tlog: checkpoint size {size_line[:40]!r} is not a decimal without leading zeros"
                ", or is outside 0..2^64-1"
            )
        root = b64decode_strict(root_line)
        if root is None:
            raise InvalidCheckpoint(f"tlog: checkpoint root hash {root_line[:60]!r} is not base64")
        return cls(origin, size, root, tuple(extensions))


@dataclass(frozen=True)
class Cosignature:
    """A signature on a checkpoint by one of the cosigners the caller trusts. ``timestamp`` is
    the cosignature/v1 time (POSIX seconds), or None for a plain Ed25519 note signature."""

    name: str
    key_id: int
    timestamp: int | None


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """The signed note of ``checkpoint``. The signer's key name should be the origin."""
    return sign(checkpoint.to_text(), [signer]).encode()


def open_checkpoint(
    note: bytes,
    log_verifier: NoteVerifier,
    *,
    origin: str | None = None,
    cosigners: Sequence[NoteVerifier] = (),
    max_size: int = MAX_NOTE_SIZE,
) -> tuple[Checkpoint, tuple[Cosignature, ...]]:
    """Open a signed checkpoint and return it with the cosignatures that verified.

    1. The note must be well formed and every signature by a known key must verify
       (:func:`~clearroom.tlog.note.open_note`).
    2. The log's own key must be among the verified signers (:class:`UnverifiedNote`).
    3. Only then is the text parsed (:class:`InvalidCheckpoint`).
    4. The origin must be ``origin``, or the log key's name when ``origin`` is None
       (:class:`WrongOrigin`).
    5. Cosigners' signatures are returned; whether there are enough is the caller's policy."""
    # Step 1.
    opened = open_note(note, [log_verifier, *cosigners], max_size=max_size)
    by_key = {(s.name, s.key_id): s for s in opened.verified_signatures}
    # Step 2.
    log_key = (log_verifier.name, log_verifier.key_id)
    if log_key not in by_key:
        signers = tuple(s.key for s in (*opened.verified_signatures, *opened.unverified))
        raise UnverifiedNote(
            f"tlog: checkpoint is not signed by the log key {log_verifier.name}+"
            f"{log_verifier.key_id:08x} (signed by: {', '.join(signers)})",
            text=opened.text,
            signers=signers,
        )
    # Step 3.
    checkpoint = Checkpoint.parse(opened.text)
    # Step 4.
    expected = log_verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise WrongOrigin(
            f"tlog: checkpoint is for log {checkpoint.origin!r}, expected {expected!r}",
            expected=expected,
            got=checkpoint.origin,
        )
    # Step 5.
    cosignatures = []
    for cosigner in cosigners:
        key = (cosigner.name, cosigner.key_id)
        if key != log_key and key in by_key:
            cosignatures.append(_cosignature(by_key[key]))
    return checkpoint, tuple(cosignatures)


def _cosignature(sig: Signature) -> Cosignature:
    timestamp = cosignature_timestamp(sig) if len(sig.signature) == 8 + 64 else None
    return Cosignature(sig.name, sig.key_id, timestamp)
