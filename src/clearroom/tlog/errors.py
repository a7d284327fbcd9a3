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


# --- Witnesses (witness.py, witness_client.py) -------------------------------------------------


class WitnessStateError(TlogError):
    """A witness's stored state is unreadable or corrupt. It is never treated as "log not seen
    yet": that would let the log roll the witness back (trust on first use, again)."""


class WitnessError(TlogError):
    """A witness refused a checkpoint or could not be reached (C2SP tlog-witness).
    ``status`` is the HTTP status, or None when no answer came."""

    def __init__(self, url: str, status: int | None, reason: str) -> None:
        self.url = url
        self.status = status
        self.reason = reason
        answered = "did not answer" if status is None else f"answered {status}"
        super().__init__(f"tlog: witness {url} {answered}: {reason}")


class WitnessConflict(WitnessError):
    """409 with the witness's own tree size (``text/x.tlog.size``): the old size sent was not
    the witness's; resubmit with a consistency proof from ``size``."""

    def __init__(self, url: str, size: int) -> None:
        super().__init__(url, 409, f"its latest cosigned tree size is {size}, not the old size")
        self.size = size


# --- Fetching a log (client.py) -----------------------------------------------------------------


class FetchError(TlogError):
    """An object of a log could not be fetched: network failure, timeout, an HTTP status other
    than 200 and 404, an unreadable file. ``location`` is the URL or path asked for."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"tlog: cannot fetch {location}: {reason}")


class ObjectMissing(FetchError):
    """The log has no object at this location (HTTP 404, no such file)."""

    def __init__(self, location: str) -> None:
        super().__init__(location, "not found (HTTP 404 or no such file)")


class ResponseTooLarge(FetchError):
    """An object is larger than the cap for its kind (checkpoint 1 MiB, tile 8 KiB, bundle
    256·65,537 bytes): reading stopped there, whatever the server meant to send."""

    def __init__(self, location: str, limit: int, size: int | None = None) -> None:
        self.limit = limit
        self.size = size
        got = "more" if size is None else f"{size} bytes"
        super().__init__(
            location, f"the response is larger than its {limit}-byte cap ({got}); refused"
        )


# --- Monitoring a log (monitor.py) --------------------------------------------------------------


def _note_text(note: bytes) -> str:
    return note.decode("utf-8", "replace")


class MonitorError(TlogError):
    """Something a monitor found wrong with a log. ``evidence()`` gives what to keep and show
    (checkpoints as text, hashes as hex), JSON-ready."""

    def evidence(self) -> dict[str, object]:
        return {}


class InvalidMonitorState(MonitorError):
    """The monitor's saved state (its last verified checkpoint) is unreadable or belongs to
    another log or key."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(
            f"tlog: monitor state {location} cannot be used: {reason}; point --state at this "
            "log's own state file, or move the file away to start over (a full re-verification)"
        )


class RollbackDetected(MonitorError):
    """The log now shows a smaller tree than a checkpoint it signed before: it rolled back (or
    the mirror serves a stale copy). Both signed checkpoints are kept as evidence."""

    def __init__(self, previous: bytes, current: bytes, previous_size: int, size: int) -> None:
        self.previous = previous
        self.current = current
        self.previous_size = previous_size
        self.size = size
        super().__init__(
            f"tlog: ROLLBACK: the log's checkpoint has size {size}, smaller than the size "
            f"{previous_size} it signed before; keep both checkpoints as evidence"
        )

    def evidence(self) -> dict[str, object]:
        return {"previous": _note_text(self.previous), "current": _note_text(self.current)}


class Inconsistency(MonitorError):
    """Two checkpoints of one log that cannot both be true: the larger tree does not extend
    the smaller one. ``smaller`` and ``larger`` are the signed notes as fetched, ``proof`` the
    consistency proof built from the log's own tiles (Tessera's ``ErrInconsistency``)."""

    def __init__(
        self, smaller: bytes, larger: bytes, proof: tuple[bytes, ...] = (), reason: str = ""
    ) -> None:
        self.smaller = smaller
        self.larger = larger
        self.proof = tuple(proof)
        self.reason = reason
        super().__init__(self._describe())

    def _describe(self) -> str:
        return (
            "tlog: INCONSISTENT LOG: the new checkpoint does not extend the one verified before"
            f"{': ' + self.reason if self.reason else ''}; the log rewrote its history, keep "
            "both checkpoints and the proof as evidence and alert the log's operator and witnesses"
        )

    def evidence(self) -> dict[str, object]:
        return {
            "smaller": _note_text(self.smaller),
            "larger": _note_text(self.larger),
            "proof": [h.hex() for h in self.proof],
        }


class SplitView(Inconsistency):
    """Two signed checkpoints of the same size with different roots: the log shows different
    trees to different readers. No proof is needed; the two notes are the evidence."""

    def _describe(self) -> str:
        return (
            "tlog: SPLIT VIEW: the log signed two different trees of the same size"
            f"{': ' + self.reason if self.reason else ''}; keep both checkpoints as evidence "
            "and alert the log's operator and witnesses"
        )


class EntryMismatch(MonitorError):
    """An entry in a bundle does not hash to the leaf hash the level-0 tile holds for it,
    while the tiles agree with the checkpoint: the bundle was altered."""

    def __init__(self, key: str, index: int, expected: bytes, actual: bytes) -> None:
        self.key = key
        self.index = index
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"tlog: entry {index} in {key} hashes to {actual.hex()}, but the log's tiles (which "
            f"match its signed checkpoint) commit to {expected.hex()}: the entry bundle was altered"
        )

    def evidence(self) -> dict[str, object]:
        return {
            "bundle": self.key,
            "index": self.index,
            "leaf_hash_in_tile": self.expected.hex(),
            "leaf_hash_of_entry": self.actual.hex(),
        }


class BadCosignature(MonitorError):
    """A configured witness's key signed the checkpoint, but the signature does not verify."""

    def __init__(self, note: bytes, name: str, key_id: int) -> None:
        self.note = note
        self.name = name
        self.key_id = key_id
        super().__init__(
            f"tlog: the cosignature by {name}+{key_id:08x} on the log's checkpoint does not "
            "verify: the checkpoint or its cosignature was altered or forged"
        )

    def evidence(self) -> dict[str, object]:
        return {"checkpoint": _note_text(self.note), "cosigner": f"{self.name}+{self.key_id:08x}"}


class NotEnoughCosignatures(TlogError):
    """Fewer witnesses cosigned a checkpoint than the caller requires. ``failures`` maps each
    failing witness's URL to its :class:`WitnessError`."""

    def __init__(self, got: int, wanted: int, failures: dict[str, WitnessError]) -> None:
        self.got = got
        self.wanted = wanted
        self.failures = failures
        reasons = "; ".join(f"{url}: {e.reason}" for url, e in failures.items())
        super().__init__(
            f"tlog: {got} witness cosignature(s), {wanted} required"
            + (f" ({reasons})" if reasons else "")
        )
