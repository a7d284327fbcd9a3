"""Receipts: the offline proof that an entry is in the log, in the C2SP tlog-proof format —
``c2sp.org/tlog-proof@v1``, optional ``extra``, ``index N``, the inclusion proof hashes, a blank
line, then the signed checkpoint (with any witness cosignatures). Anyone holding the entry, the
log's verifier key and this text can check it without asking Clearroom anything."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from clearroom.tlog.checkpoint import Checkpoint, Cosignature, open_checkpoint
from clearroom.tlog.errors import InvalidProof, NotEnoughCosignatures
from clearroom.tlog.hashing import HASH_SIZE, leaf_hash
from clearroom.tlog.merkle import verify_inclusion
from clearroom.tlog.note import NoteVerifier
from clearroom.untrusted import parse_decimal

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_LINES = 63


@dataclass(frozen=True)
class Receipt:
    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    """The signed checkpoint note, exactly as the log served it."""
    extra: bytes | None = None

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint.decode()

    @classmethod
    def parse(cls, text: str) -> Receipt:
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise InvalidProof("tlog: receipt has no blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise InvalidProof(f"tlog: receipt does not start with {HEADER!r}")
        lines = lines[1:]
        extra = None
        if lines and lines[0].startswith("extra "):
            extra = _b64(lines.pop(0)[6:], "extra data")
        if not lines or not lines[0].startswith("index "):
            raise InvalidProof("tlog: receipt has no 'index N' line")
        index_text = lines.pop(0)[6:]
        index = parse_decimal(index_text)
        if index is None:
            raise InvalidProof(
                f"tlog: receipt index {index_text[:40]!r} is not a decimal number"
                " (ASCII digits, no leading zeros, below 2^64)"
            )
        if len(lines) > MAX_PROOF_LINES:
            raise InvalidProof(f"tlog: receipt has {len(lines)} proof lines, at most 63 make sense")
        proof = tuple(_b64(line, "proof hash") for line in lines)
        if any(len(h) != HASH_SIZE for h in proof):
            raise InvalidProof("tlog: a proof hash in the receipt is not 32 bytes")
        return cls(index, proof, note.encode(), extra)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidProof(f"tlog: receipt {what} is not valid base64") from None


def verify_receipt(
    receipt: Receipt,
    entry: bytes,
    log_verifier: NoteVerifier,
    *,
    origin: str | None = None,
    cosigners: Sequence[NoteVerifier] = (),
    min_cosignatures: int = 0,
) -> tuple[Checkpoint, tuple[Cosignature, ...]]:
    """Check that ``entry`` is at ``receipt.index`` in the tree the signed checkpoint commits
    to, cosigned by at least ``min_cosignatures`` of ``cosigners``. Returns the checkpoint and
    the cosignatures that verified; raises on anything else."""
    checkpoint, cosignatures = open_checkpoint(
        receipt.checkpoint, log_verifier, origin=origin, cosigners=cosigners
    )
    if len(cosignatures) < min_cosignatures:
        raise NotEnoughCosignatures(len(cosignatures), min_cosignatures, {})
    verify_inclusion(
        leaf_hash(entry), receipt.index, checkpoint.size, list(receipt.proof), checkpoint.root_hash
    )
    return checkpoint, cosignatures
