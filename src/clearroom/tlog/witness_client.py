"""The log's side of C2SP tlog-witness: submit a checkpoint, collect the cosignatures.

Why: a checkpoint convinces offline verifiers only with cosignatures from witnesses they trust,
so the publisher asks every configured witness. The protocol's recovery lives here: a witness
that answers 409 with its own tree size (the log restarted, or a publish failed half-way) gets
one resubmission with a consistency proof from that size. Answers are bounded in size, never
decompressed, and a cosignature is kept only if it verifies under the key configured for that
witness (the spec: ignore signatures from unknown keys). A 409 without a size is a witness that
holds another root for this size: evidence of a fork, never retried.

Example::

    witnesses = [WitnessEndpoint("https://witness.example/", parse_verifier_key(vkey))]
    cosigned = cosign_with_witnesses(note, lambda old: tree.consistency_proof(old), witnesses)
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from clearroom.blobs import ObjectStore
from clearroom.tlog.checkpoint import Checkpoint
from clearroom.tlog.errors import (
    InvalidNote,
    NotEnoughCosignatures,
    TlogError,
    UnverifiedNote,
    WitnessConflict,
    WitnessError,
)
from clearroom.tlog.merkle import consistency_proof
from clearroom.tlog.note import NoteVerifier, open_note
from clearroom.tlog.tiles import TileReader
from clearroom.tlog.witness import SIZE_CONTENT_TYPE, encode_request

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_SIZE",
    "CheckpointCosigner",
    "WitnessEndpoint",
    "cosign_with_witnesses",
    "submit",
]

MAX_RESPONSE_SIZE = 16 * 1024
"""Witness answers larger than this are refused (a few signature lines are ~150 bytes each)."""
DEFAULT_TIMEOUT = 20.0
"""Seconds allowed for connecting, and for each read and write (httpx semantics)."""

_log = logging.getLogger(__name__)
_SIZE = re.compile(rb"(0|[1-9][0-9]{0,19})\n?")
_REASONS = {
    400: "the witness found the request malformed",
    403: "no signature by a log key the witness trusts",
    404: "the witness does not follow this log",
    409: "the witness cosigned another root for this tree size: a split view or a log fork",
    413: "the request is too large for the witness",
    422: "the witness rejected the consistency proof",
    429: "the witness asks to slow down",
}


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness: its submission prefix URL and its cosignature/v1 verifier."""

    url: str
    verifier: NoteVerifier


@contextlib.contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """The caller's client, left open; or a fresh one (no redirects), closed on exit."""
    if client is not None:
        yield client
        return
    with httpx.Client(follow_redirects=False) as own:
        yield own


def _post(url: str, body: bytes, timeout: float, client: httpx.Client) -> tuple[int, str, bytes]:
    """(status, media type, body) of a POST; redirects are not followed (they would drop the
    body or the method), compressed answers are not asked for, the body is bounded."""
    headers = {"Content-Type": "text/plain", "Accept-Encoding": "identity"}
    try:
        with client.stream("POST", url, content=body, headers=headers, timeout=timeout) as r:
            payload = bytearray()
            for chunk in r.iter_raw():
                payload += chunk
                if len(payload) > MAX_RESPONSE_SIZE:
                    raise WitnessError(url, r.status_code, f"answer over {MAX_RESPONSE_SIZE} bytes")
            media_type = r.headers.get("content-type", "").split(";")[0].strip().lower()
            return r.status_code, media_type, bytes(payload)
    except httpx.HTTPError as exc:
        raise WitnessError(url, None, f"{type(exc).__name__}: {exc}"[:200]) from exc


def _note_text(checkpoint_note: bytes) -> bytes:
    split = checkpoint_note.rfind(b"\n\n")
    if split < 0:
        raise InvalidNote("tlog: checkpoint note has no blank line before its signatures")
    return checkpoint_note[: split + 1]


def _cosignature_lines(url: str, payload: bytes) -> list[str]:
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        raise WitnessError(url, 200, "the answer is not UTF-8") from None
    lines = text.splitlines(keepends=True)
    if not lines or not all(line.startswith("\u2014 ") and line.endswith("\n") for line in lines):
        raise WitnessError(url, 200, "the answer is not a list of note signature lines")
    return lines


def _verified(url: str, text: bytes, lines: list[str], verifier: NoteVerifier) -> list[str]:
    kept = []
    for line in lines:
        try:
            open_note(text + b"\n" + line.encode(), [verifier])
        except (UnverifiedNote, InvalidNote):  # another key's line, or a bad signature
            continue
        kept.append(line)
    if not kept:
        raise WitnessError(
            url, 200, f"no valid cosignature by {verifier.name}+{verifier.key_id:08x}"
        )
    return kept


def submit(
    checkpoint_note: bytes,
    old_size: int,
    proof: Sequence[bytes],
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    verifier: NoteVerifier | None = None,
    client: httpx.Client | None = None,
) -> list[str]:
    """POST ``<url>/add-checkpoint`` and return the witness's signature lines (each ending in a
    newline). With ``verifier``, only the lines that verify under it are returned.

    Raises :class:`WitnessConflict` (carrying the witness's size) on a 409 with a size, and
    :class:`WitnessError` on any other failure."""
    body = encode_request(old_size, proof, checkpoint_note)
    endpoint = url.rstrip("/") + "/add-checkpoint"
    with _client(client) as http:
        status, media_type, payload = _post(endpoint, body, timeout, http)
    if status == 200:
        lines = _cosignature_lines(url, payload)
        if verifier is not None:
            lines = _verified(url, _note_text(checkpoint_note), lines, verifier)
        return lines
    if status == 409 and media_type == SIZE_CONTENT_TYPE:
        match = _SIZE.fullmatch(payload.strip(b" "))
        if match is None:
            raise WitnessError(url, 409, "the witness's size is not a decimal number")
        raise WitnessConflict(url, int(match.group(1)))
    reason = _REASONS.get(status, "unexpected answer")
    detail = payload[:120].decode(errors="replace").strip()
    raise WitnessError(url, status, f"{reason} ({detail})" if detail else reason)


def _cosign_one(
    checkpoint_note: bytes,
    size: int,
    proof_from: Callable[[int], Sequence[bytes]],
    witness: WitnessEndpoint,
    old_size: int,
    timeout: float,
    client: httpx.Client,
) -> list[str]:
    """Submit from ``old_size``; after a 409 with the witness's size, once more from it."""
    for attempt in (1, 2):
        if old_size > size:
            raise WitnessError(
                witness.url, 409, f"the witness is at size {old_size}, ahead of this checkpoint"
            )
        try:
            proof = [] if old_size in (0, size) else list(proof_from(old_size))
        except TlogError as exc:
            raise WitnessError(witness.url, 409, f"no proof from size {old_size}: {exc}") from exc
        try:
            return submit(
                checkpoint_note,
                old_size,
                proof,
                witness.url,
                timeout=timeout,
                verifier=witness.verifier,
                client=client,
            )
        except WitnessConflict as conflict:
            if attempt == 2:
                raise
            old_size = conflict.size
    raise AssertionError("unreachable")


def cosign_with_witnesses(
    checkpoint_note: bytes,
    proof_from: Callable[[int], Sequence[bytes]],
    witnesses: Sequence[WitnessEndpoint],
    *,
    known_sizes: MutableMapping[str, int] | None = None,
    min_cosignatures: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    client: httpx.Client | None = None,
) -> bytes:
    """The checkpoint note with every witness's verified cosignature lines appended.

    Witnesses are asked in parallel, each from the size in ``known_sizes[url]`` (0 when unknown,
    which costs one 409 round trip); ``proof_from(old_size)`` gives the consistency proof from
    a witness's size to this checkpoint's; it runs in worker threads, and a
    :class:`TlogError` from it fails only that witness. ``known_sizes`` is updated with what
    each witness now holds. Failures are logged; fewer than ``min_cosignatures`` cosigning
    witnesses raise :class:`NotEnoughCosignatures`."""
    size = Checkpoint.parse(_note_text(checkpoint_note).decode()).size
    sizes = known_sizes if known_sizes is not None else {}
    lines: list[str] = []
    failures: dict[str, WitnessError] = {}
    with _client(client) as http, ThreadPoolExecutor(max(1, len(witnesses))) as pool:
        futures = [
            pool.submit(
                _cosign_one,
                checkpoint_note,
                size,
                proof_from,
                w,
                sizes.get(w.url, 0),
                timeout,
                http,
            )
            for w in witnesses
        ]
        for witness, future in zip(witnesses, futures, strict=True):
            try:
                lines += future.result()
            except WitnessError as exc:
                _log.warning("%s", exc)
                failures[witness.url] = exc
                if isinstance(exc, WitnessConflict):
                    sizes[witness.url] = exc.size
                continue
            sizes[witness.url] = size
    if len(witnesses) - len(failures) < min_cosignatures:
        raise NotEnoughCosignatures(len(witnesses) - len(failures), min_cosignatures, failures)
    return checkpoint_note + "".join(lines).encode()


class CheckpointCosigner:
    """The sequencer's ``cosign`` hook: every new checkpoint goes to every witness before it is
    published, and is published with the cosignatures that verified.

    With fewer than ``min_cosignatures`` it waits ``retry_wait`` seconds and asks again: a log
    whose policy demands witnesses never publishes an unwitnessed checkpoint; meanwhile the
    backlog grows and submitters get pushback. With the default of 0, unreachable witnesses
    are logged and the checkpoint is published with whatever cosignatures came back. Setting
    ``stopping`` ends the wait with :class:`TlogError` (the checkpoint is not published)."""

    def __init__(
        self,
        witnesses: Sequence[WitnessEndpoint],
        tiles: ObjectStore,
        *,
        min_cosignatures: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
        retry_wait: float = 5.0,
        stopping: threading.Event | None = None,
    ) -> None:
        self._witnesses = list(witnesses)
        self._stopping = stopping or threading.Event()
        self._tiles = tiles
        self._min = min_cosignatures
        self._timeout = timeout
        self._retry_wait = retry_wait
        self._sizes: dict[str, int] = {}

    def __call__(self, checkpoint_note: bytes) -> bytes:
        size = Checkpoint.parse(_note_text(checkpoint_note).decode()).size
        reader = TileReader(self._tiles, size)

        def proof_from(old_size: int) -> list[bytes]:
            return consistency_proof(reader, old_size, size)

        while True:
            try:
                return cosign_with_witnesses(
                    checkpoint_note,
                    proof_from,
                    self._witnesses,
                    known_sizes=self._sizes,
                    min_cosignatures=self._min,
                    timeout=self._timeout,
                )
            except NotEnoughCosignatures as exc:
                _log.warning("%s; asking again in %.0f s", exc, self._retry_wait)
                if self._stopping.wait(self._retry_wait):
                    raise TlogError("tlog: stopped while waiting for witnesses") from exc
