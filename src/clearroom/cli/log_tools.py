"""``clearroom log keygen|append|checkpoint|prove|verify``: run and query a log kept in a local
folder (``<dir>/sequence`` is private, ``<dir>/tiles`` is what gets served), and verify a
receipt offline with nothing but the log's verifier key."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from clearroom.errors import ClearroomError

if TYPE_CHECKING:
    from clearroom.tlog.receipt import Receipt

console = Console(soft_wrap=True)
MAX_RECEIPT_BYTES = (1 << 20) + (64 << 10)
"""A receipt: a few header lines, at most 63 proof hashes, and a checkpoint of at most 1 MiB."""
LogDir = Annotated[Path, typer.Argument(help="The log's folder (sequence/ and tiles/ inside).")]


def _tiles(directory: Path):  # type: ignore[no-untyped-def]
    from clearroom.blobs import LocalObjectStore

    if not (directory / "tiles").is_dir():
        raise ClearroomError(f"log: {directory} holds no tiles/ folder; is it a log folder?")
    return LocalObjectStore(directory / "tiles")


def _read_key(path: Path) -> str:
    from clearroom.untrusted import (
        MAX_KEY_FILE_BYTES,
        InputError,
        MalformedInput,
        decode_utf8,
        read_capped,
    )

    try:
        data = read_capped(path, MAX_KEY_FILE_BYTES, what="log: key file")
        return decode_utf8(data, what=f"log: key file {path}").strip()
    except (InputError, MalformedInput) as exc:
        raise ClearroomError(str(exc)) from None


def _read_receipt(path: Path) -> Receipt:
    """The receipt in ``path``, read with a cap; a file that is not a receipt at all (binary,
    another format) is `MalformedInput`, one that claims to be and is malformed `InvalidProof`."""
    from clearroom.tlog.receipt import HEADER, Receipt
    from clearroom.untrusted import MalformedInput, decode_utf8, read_capped

    data = read_capped(path, MAX_RECEIPT_BYTES, what="receipt")
    text = decode_utf8(data, what=f"receipt: {path}")
    if not text.startswith(HEADER + "\n"):
        raise MalformedInput(f"receipt: {path} is not a receipt (it does not start {HEADER!r})")
    return Receipt.parse(text)


def _read_entry(path: Path) -> bytes:
    """The entry's bytes; larger than a log entry can be: refused before it is read."""
    from clearroom.tlog.bundles import MAX_ENTRY_SIZE
    from clearroom.untrusted import InputTooLarge, read_capped

    try:
        return read_capped(path, MAX_ENTRY_SIZE, what="entry")
    except InputTooLarge as exc:
        raise InputTooLarge(f"{exc}; no log entry is that large") from None


def register(app: typer.Typer) -> None:
    """Add the commands to the ``clearroom log`` sub-app."""

    @app.command()
    def run() -> None:
        """Run the service's log writer as a process of its own (with tlog_embedded = false
        for `clearroom serve`): it logs every published fact and signs the checkpoints.
        SIGTERM or SIGINT stops it after the current batch."""
        from clearroom.cli import _django
        from clearroom.cli.stopping import stop_signals

        with stop_signals():  # a signal while starting up aborts the start
            _django.setup()
            from django.conf import settings

            from clearroom.server.transparency.keeper import LogKeeper

            keeper = LogKeeper()
            with stop_signals(keeper.stop):
                console.print(f"Log writer for {settings.CONFIG.tlog_dir}; Ctrl-C stops it.")
                keeper.run()

    @app.command()
    def keygen(
        name: Annotated[
            str, typer.Option(help="The log's origin, e.g. clearroom.example.org/log.")
        ],
        out: Annotated[Path, typer.Option(help="Where to write the private key (mode 0600).")],
    ) -> None:
        """Make a log signing key; print the verifier key that clients and witnesses trust."""
        from clearroom.tlog.note import generate_key

        signer_key, verifier_key = generate_key(name)
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ClearroomError(f"log: {out} exists; refusing to overwrite a key") from None
        with os.fdopen(fd, "w") as f:
            f.write(signer_key + "\n")
        console.print(verifier_key, highlight=False)

    @app.command()
    def append(
        directory: LogDir,
        files: Annotated[list[Path], typer.Argument(help="Files whose bytes become entries.")],
        key_file: Annotated[Path, typer.Option(help="The log's private key (from keygen).")],
    ) -> None:
        """Append entries, wait for a checkpoint, and write a receipt (<file>.tlog-proof) each."""
        from clearroom.blobs import LocalObjectStore
        from clearroom.tlog.note import parse_signer_key
        from clearroom.tlog.sequencer import Sequencer

        signer = parse_signer_key(_read_key(key_file))
        entries = [_read_entry(path) for path in files]
        tiles = LocalObjectStore(directory / "tiles")
        with Sequencer(directory / "sequence", tiles, signer) as log:
            indexes = log.add_many(entries)
            for path, index in zip(files, indexes, strict=True):
                receipt = log.receipt(index, timeout=60)
                target = path.with_name(path.name + ".tlog-proof")
                target.write_text(receipt.to_text())
                console.print(f"{path}: index {index}, receipt {target}", highlight=False)

    @app.command()
    def checkpoint(directory: LogDir) -> None:
        """Print the log's latest signed checkpoint."""
        from clearroom.blobs import ObjectNotFound

        try:
            sys.stdout.write(_tiles(directory).get("checkpoint").decode())
        except ObjectNotFound:
            raise ClearroomError(f"log: {directory} has no checkpoint yet") from None

    @app.command()
    def prove(
        directory: LogDir,
        index: Annotated[int | None, typer.Option(help="Prove this entry's inclusion.")] = None,
        old_size: Annotated[
            int | None, typer.Option(help="Prove consistency from this size.")
        ] = None,
    ) -> None:
        """Print an inclusion receipt (C2SP tlog-proof) or a consistency proof (base64 lines)
        against the latest checkpoint, computed from the tiles."""
        from clearroom.tlog.checkpoint import Checkpoint
        from clearroom.tlog.merkle import consistency_proof, inclusion_proof
        from clearroom.tlog.receipt import Receipt
        from clearroom.tlog.tiles import TileReader

        if (index is None) == (old_size is None):
            raise ClearroomError("log: give exactly one of --index or --old-size")
        objects = _tiles(directory)
        note = objects.get("checkpoint")
        current = Checkpoint.parse(note.decode().split("\n\n", 1)[0] + "\n")
        reader = TileReader(objects, current.size)
        if index is not None:
            proof = inclusion_proof(reader, current.size, index)
            sys.stdout.write(Receipt(index, tuple(proof), note).to_text())
        else:
            assert old_size is not None
            for h in consistency_proof(reader, old_size, current.size):
                sys.stdout.write(base64.b64encode(h).decode() + "\n")

    @app.command()
    def verify(
        receipt: Annotated[Path, typer.Argument(help="A .tlog-proof receipt.")],
        entry: Annotated[Path, typer.Option(help="The entry's bytes (the logged fact).")],
        key: Annotated[str, typer.Option(help="The log's verifier key (name+hash+base64).")],
        origin: Annotated[
            str | None, typer.Option(help="Expected origin (default: key name).")
        ] = None,
        cosigner: Annotated[list[str] | None, typer.Option(help="Witness verifier keys.")] = None,
        min_cosignatures: Annotated[
            int, typer.Option(help="Fail unless this many of the --cosigner keys cosigned.", min=0)
        ] = 0,
    ) -> None:
        """Verify a receipt offline: the checkpoint's signature, then the entry's inclusion.

        Exits 0 if verified, 1 if it could not be checked (a missing, unreadable, oversized or
        non-receipt file, a bad key), 3 with the evidence if the receipt does not verify."""
        from clearroom.cli.log import (
            EXIT_BAD_LOG,
            EXIT_UNCHECKED,
            exit_code,
            load_verifier,
            print_error,
        )
        from clearroom.tlog.errors import InvalidInput, InvalidProof, TlogError
        from clearroom.tlog.note import CosignatureVerifier
        from clearroom.tlog.receipt import verify_receipt
        from clearroom.untrusted import InputError, MalformedInput

        err = Console(stderr=True)
        try:
            cosigners = [CosignatureVerifier.from_key(k) for k in cosigner or []]
            proof = _read_receipt(receipt)
            data = _read_entry(entry)
            log_key = load_verifier(key)
        except (InputError, MalformedInput) as exc:
            message = f"[bold red]could not check:[/] {escape(str(exc))}"
            err.print(message, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_UNCHECKED) from None
        except TlogError as exc:
            print_error(exc, err)
            raise typer.Exit(exit_code(exc)) from None
        try:
            checkpoint, cosigned = verify_receipt(
                proof,
                data,
                log_key,
                origin=origin,
                cosigners=cosigners,
                min_cosignatures=min_cosignatures,
            )
        except TlogError as exc:  # whatever fails here, the receipt does not verify
            if isinstance(exc, InvalidInput):  # e.g. an index beyond the checkpoint's tree
                exc = InvalidProof(str(exc))
            print_error(exc, err)
            raise typer.Exit(EXIT_BAD_LOG) from None
        console.print(
            f"[green]verified[/]: {entry} is in {checkpoint.origin} at size {checkpoint.size}"
            + (f", cosigned by {', '.join(c.name for c in cosigned)}" if cosigned else ""),
            highlight=False,
        )
