"""``clearroom witness``: run a C2SP tlog-witness over HTTP, and make its key.

Why the standard library's ``ThreadingHTTPServer``: a witness is a small, security-critical
service that should run wherever Clearroom's cores run, without Django or a web framework. The
protocol lives in :mod:`clearroom.tlog.witness`; this module only moves bytes, enforces the
transport limits (a Content-Length no larger than the body limit, socket timeouts) and turns
any failure into a logged 500, never a crashed server. Evidence of log misbehaviour (a second
root for a size, a failing proof, both validly signed) is kept under ``<state>/evidence/``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socketserver
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, cast

import typer

from clearroom.cli.stopping import stop_signals
from clearroom.errors import ClearroomError
from clearroom.tlog.note import (
    CosignatureSigner,
    CosignatureVerifier,
    NoteVerifier,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from clearroom.tlog.witness import (
    MAX_BODY_SIZE,
    TEXT_CONTENT_TYPE,
    Evidence,
    FileWitnessState,
    Witness,
)

__all__ = ["WitnessServer", "app", "load_witness", "main", "make_server"]

app = typer.Typer(
    name="witness",
    help="Run a transparency-log witness (C2SP tlog-witness) that cosigns checkpoints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_log = logging.getLogger("clearroom.witness")

REQUEST_TIMEOUT = 10.0
"""Seconds a connection may stay silent before it is dropped."""


class WitnessServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one :class:`Witness`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        self.witness = witness
        super().__init__(address, WitnessHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind also resolves the bound address back to a host name
        # (socket.getfqdn: a reverse DNS query where /etc/hosts does not answer, seconds on a
        # slow resolver) only to fill server_name, which nothing here reads.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class WitnessHandler(BaseHTTPRequestHandler):
    """POST /add-checkpoint (the protocol) and GET / (who this witness is)."""

    server_version = "clearroom-witness"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive, as the spec asks witnesses to support
    timeout = REQUEST_TIMEOUT

    @property
    def witness(self) -> Witness:
        return cast(WitnessServer, self.server).witness

    def do_POST(self) -> None:
        try:
            self._add_checkpoint()
        except (ConnectionError, TimeoutError) as exc:  # the client left or stalled: no answer
            _log.info("connection from %s dropped: %s", self.address_string(), exc)
            self.close_connection = True
        except Exception:  # noqa: BLE001 - any failure is a logged 500, never a dead thread
            _log.exception("add-checkpoint failed")
            self._send(500, b"witness: internal error\n", close=True)

    def do_GET(self) -> None:
        try:
            if self.path != "/":
                self._send(404, b"witness: not found\n")
                return
            lines = [
                "clearroom witness (C2SP tlog-witness): POST /add-checkpoint",
                f"verifier key: {self.witness.verifier_key}",
                "logs:",
                *(
                    f"  {origin}  {v.name}+{v.key_id:08x}"
                    for origin, v in self.witness.logs.items()
                ),
            ]
            self._send(200, ("\n".join(lines) + "\n").encode())
        except Exception:  # noqa: BLE001 - as above
            _log.exception("GET %s failed", self.path[:100])
            self._send(500, b"witness: internal error\n", close=True)

    def _add_checkpoint(self) -> None:
        if self.path != "/add-checkpoint":
            self._send(404, b"witness: not found\n", close=True)
            return
        length = self.headers.get("Content-Length")
        if length is None:
            self._send(411, b"witness: a Content-Length is required\n", close=True)
            return
        if not (length.isascii() and length.isdigit()):
            self._send(400, b"witness: bad Content-Length\n", close=True)
            return
        if len(length) > 12 or int(length) > MAX_BODY_SIZE:  # refused unread
            self._send(413, b"witness: request body too large\n", close=True)
            return
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self._send(400, b"witness: request body shorter than its Content-Length\n", close=True)
            return
        response = self.witness.add_checkpoint(body)
        if response.status != 200:
            _log.info("add-checkpoint: %d %r", response.status, response.body[:200])
        self._send(response.status, response.body, response.content_type)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = TEXT_CONTENT_TYPE,
        *,
        close: bool = False,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        _log.info("%s %s", self.address_string(), format % args)


def make_server(witness: Witness, host: str = "127.0.0.1", port: int = 7380) -> WitnessServer:
    """A bound (not yet serving) HTTP server; port 0 picks a free port."""
    return WitnessServer((host, port), witness)


def _evidence_keeper(directory: Path) -> Callable[[Evidence], None]:
    def keep(evidence: Evidence) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{hashlib.sha256(evidence.request).hexdigest()[:16]}.txt"
        header = f"origin: {evidence.origin}\nreason: {evidence.reason}\n"
        if evidence.recorded is not None:
            header += f"cosigned before:\n{evidence.recorded.checkpoint.decode()}"
        (directory / name).write_bytes(header.encode() + b"\nrequest:\n" + evidence.request)
        _log.warning(
            "EVIDENCE of log misbehaviour for %r (%s): kept in %s",
            evidence.origin,
            evidence.reason,
            directory / name,
        )

    return keep


def load_witness(key_file: Path, logs: list[str], state: Path) -> Witness:
    """The witness a ``serve`` command line describes; bad keys are :class:`ClearroomError`."""
    try:
        key_text = key_file.read_text().strip()
    except OSError as exc:
        raise ClearroomError(f"witness: cannot read the key file {key_file}: {exc}") from None
    if key_file.stat().st_mode & 0o077:
        _log.warning("witness: key file %s is readable by others; chmod 600 it", key_file)
    signer = parse_signer_key(key_text)
    if not isinstance(signer, CosignatureSigner):
        raise ClearroomError(
            f"witness: {key_file} is a plain Ed25519 key; a witness needs a cosignature/v1 key "
            "(make one with `clearroom witness keygen`)"
        )
    verifiers: dict[str, NoteVerifier] = {}
    for vkey in logs:
        verifier = parse_verifier_key(vkey.strip())
        if isinstance(verifier, CosignatureVerifier):
            raise ClearroomError(f"witness: --log {verifier.name} is a witness key, not a log key")
        if verifier.name in verifiers:
            raise ClearroomError(f"witness: --log {verifier.name} is given twice")
        verifiers[verifier.name] = verifier
    if not verifiers:
        raise ClearroomError("witness: give at least one --log VERIFIERKEY to witness")
    return Witness(
        signer,
        verifiers,
        FileWitnessState(state),
        on_evidence=_evidence_keeper(state / "evidence"),
    )


@app.command()
def keygen(
    name: Annotated[str, typer.Option(help="The witness's key name, e.g. witness.example.org/w1.")],
    out: Annotated[Path, typer.Option(help="Where to write the private key (mode 0600).")],
) -> None:
    """Make a cosignature/v1 key; print its verifier key for logs and verifiers to trust."""
    skey, vkey = generate_key(name, cosignature=True)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ClearroomError(f"witness: {out} exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise ClearroomError(f"witness: cannot create {out}: {exc}") from None
    with os.fdopen(fd, "w") as key_file:
        key_file.write(skey + "\n")
    typer.echo(vkey)


@app.command()
def serve(
    key_file: Annotated[Path, typer.Option(help="The witness's private key (PRIVATE+KEY+...).")],
    log: Annotated[
        list[str],
        typer.Option(help="Verifier key of a log to witness (repeatable); origin = key name."),
    ],
    state: Annotated[
        Path, typer.Option(help="Directory of the witness's state; never lose or reset it.")
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 7380,
) -> None:
    """Serve POST /add-checkpoint until SIGTERM or SIGINT (then exit 0)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    witness = load_witness(key_file, log, state)
    server = make_server(witness, host, port)
    bound_host, bound_port = server.server_address[:2]

    def stop() -> None:  # shutdown() waits for serve_forever() to return: not in its thread
        threading.Thread(target=server.shutdown, daemon=True).start()

    # The handlers are in place before the banner says the witness is up. A request cut short
    # by the stop loses nothing: the witness's state is replaced atomically or not at all.
    try:
        with stop_signals(stop):
            typer.echo(witness.verifier_key)
            typer.echo(
                f"witnessing {', '.join(witness.logs)} at http://{bound_host!s}:{bound_port}/"
            )
            server.serve_forever()
    finally:
        server.server_close()


def main() -> None:
    """Run this sub-app alone (``python -m clearroom.cli.witness``), errors as one line."""
    try:
        app()
    except ClearroomError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
