"""Errors of the transparency log. Each says what is wrong in terms a log operator or auditor
can act on: "tlog: <what>"."""

from __future__ import annotations

from clearroom.errors import ClearroomError


class TlogError(ClearroomError):
    """Base of every transparency-log error."""


class InvalidProof(TlogError):
    """A proof does not verify (wrong length, wrong hashes, non-32-byte hash, bad sizes)."""


class InvalidInput(TlogError):
    """A request that cannot be answered: an index beyond the tree, a size going backwards."""


# --- Tiles and entry bundles (layout.py, tiles.py, bundles.py) ---------------------------------


class InvalidTilePath(TlogError):
    """A tile or bundle key (or coordinate) is not the canonical C2SP tlog-tiles spelling."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"tlog: invalid tile path {key!r}: {reason}")


class InvalidTile(TlogError):
    """Stored tile bytes have the wrong length for the tile's width (truncated, padded)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(
            f"tlog: tile {key} is invalid: {reason}; restore it from a replica or re-integrate"
        )


class MissingTile(TlogError):
    """A tile or bundle the tree size requires is not in the store."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"tlog: tile {key} is missing from the store; the log's storage lost data or the "
            "tree size is beyond what was integrated"
        )


class TileConflict(TlogError):
    """An immutable tile or bundle already exists with different bytes: the log would fork."""

    def __init__(self, key: str, reason: str = "it already exists with different bytes") -> None:
        self.key = key
        self.reason = reason
        super().__init__(
            f"tlog: refusing to write {key}: {reason}; the entries being integrated differ from "
            "the ones already published, stop the integrator and investigate"
        )


class InvalidBundle(TlogError):
    """Stored entry-bundle bytes do not decode to the expected number of entries."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"tlog: entry bundle {key} is invalid: {reason}")


class EntryTooLarge(TlogError):
    """An entry does not fit the bundle format's 16-bit length prefix."""

    def __init__(self, size: int, limit: int, index: int | None = None) -> None:
        self.size = size
        self.limit = limit
        self.index = index
        where = "" if index is None else f" (entry {index} of the batch)"
        super().__init__(
            f"tlog: an entry of {size} bytes{where} exceeds the entry-bundle limit of {limit} "
            "bytes (big-endian uint16 length prefix); store large data as a blob and log its digest"
        )


class RootMismatch(TlogError):
    """The tiles do not hash to the checkpoint's root, or one stored tile disagrees with the
    tiles below it: the stored tree was altered."""

    def __init__(self, size: int, expected: bytes, actual: bytes, key: str | None = None) -> None:
        self.size = size
        self.expected = expected
        self.actual = actual
        self.key = key
        if key is None:
            what = f"the tiles hash to root {actual.hex()}, not the checkpoint's {expected.hex()}"
        else:
            what = f"{key} holds {actual.hex()} where the rest of the tree gives {expected.hex()}"
        super().__init__(
            f"tlog: tree of size {size}: {what}; the stored objects were altered, restore them "
            "from a replica"
        )


class InvalidKey(TlogError):
    """A signer or verifier key (string or bytes) is malformed, of an unknown type, or its key ID
    does not match its name and public key."""


class InvalidNote(TlogError):
    """A signed note is malformed (C2SP signed-note): bad UTF-8 or control characters, no blank
    line before the signatures, a bad signature line or base64, too large, too many signatures."""


class InvalidSignature(InvalidNote):
    """A signature from a known key does not verify: the note was altered or forged."""

    def __init__(self, message: str, *, name: str = "", key_id: int = 0) -> None:
        super().__init__(message)
        self.name = name
        self.key_id = key_id


class UnverifiedNote(TlogError):
    """A well-formed note carries no signature from any key the caller trusts. ``text`` and
    ``signers`` ("name+hex8" of each signature line) are kept as evidence."""

    def __init__(self, message: str, *, text: str = "", signers: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.text = text
        self.signers = signers


class InvalidCheckpoint(TlogError):
    """A checkpoint's text breaks C2SP tlog-checkpoint: origin, decimal size, 32-byte base64 root,
    non-empty extension lines."""


class WrongOrigin(InvalidCheckpoint):
    """A validly signed checkpoint names another log than the one expected."""

    def __init__(self, message: str, *, expected: str = "", got: str = "") -> None:
        super().__init__(message)
        self.expected = expected
        self.got = got
