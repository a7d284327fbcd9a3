"""``clearroom log ...``: the transparency log from the command line.

Why a sub-app of its own: monitoring, appending, checkpointing, proving and verifying are one
subject with shared options (a log's location, its verifier key) and one way to fail loudly, so
they live together and share the helpers below; ``cli/main.py`` mounts this ``app`` under
``log``. Each command imports the log library when it runs, so ``clearroom --help`` stays fast.

Exit codes of the log commands: 0 all verified; 1 could not check (network, configuration,
arguments); 3 the log served something that does not verify (a fork, a rollback, altered tiles
or entries, a bad signature): the evidence is printed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from clearroom.tlog.errors import TlogError
    from clearroom.tlog.monitor import Monitor, Report
    from clearroom.tlog.note import NoteVerifier

app = typer.Typer(
    name="log",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """The transparency log: monitor a log and keep the evidence of anything wrong."""
    # A callback keeps ``log`` a command group however many commands it has.


EXIT_OK = 0
EXIT_UNCHECKED = 1
"""The log could not be checked: unreachable, misconfigured, bad arguments."""
EXIT_BAD_LOG = 3
"""The log served something that does not verify; the evidence was printed."""


# --- Shared by the log commands -----------------------------------------------------------------


def load_verifier(value: str, what: str = "--key") -> NoteVerifier:
    """A note verifier key given as ``name+hex8+base64`` or as a file holding one."""
    from clearroom.tlog.errors import InvalidKey
    from clearroom.tlog.note import parse_verifier_key
    from clearroom.untrusted import (
        MAX_KEY_FILE_BYTES,
        InputError,
        MalformedInput,
        decode_utf8,
        read_capped,
    )

    path = Path(value).expanduser()
    text = value.strip()
    if path.is_file():
        try:
            text = decode_utf8(read_capped(path, MAX_KEY_FILE_BYTES, what=what), what=what).strip()
        except (InputError, MalformedInput) as exc:
            raise InvalidKey(str(exc)) from None
    try:
        return parse_verifier_key(text)
    except InvalidKey as exc:
        raise InvalidKey(f"{what}: {exc}") from None


def exit_code(exc: TlogError) -> int:
    """`EXIT_UNCHECKED` when the log could not be checked, `EXIT_BAD_LOG` when it failed."""
    from clearroom.tlog.errors import (
        FetchError,
        InvalidInput,
        InvalidKey,
        InvalidMonitorState,
        ResponseTooLarge,
    )

    unchecked = (FetchError, InvalidInput, InvalidKey, InvalidMonitorState)
    if isinstance(exc, unchecked) and not isinstance(exc, ResponseTooLarge):
        return EXIT_UNCHECKED
    return EXIT_BAD_LOG


def error_document(exc: TlogError) -> dict[str, object]:
    """The error as JSON: its type, message and evidence."""
    from clearroom.tlog.errors import MonitorError

    evidence = exc.evidence() if isinstance(exc, MonitorError) else {}
    return {"ok": False, "error": type(exc).__name__, "message": str(exc), "evidence": evidence}


def print_error(exc: TlogError, console: Console) -> None:
    """A loud red panel: the message, then each piece of evidence verbatim."""
    doc = error_document(exc)
    body = Text(str(exc), style="bold red")
    evidence = doc["evidence"]
    assert isinstance(evidence, dict)
    for name, value in evidence.items():
        body.append(f"\n\n{name}:\n", style="bold")
        text = "\n".join(value) if isinstance(value, list) else str(value)
        body.append(text or "(none)", style="default")
    title = "LOG CHECK FAILED" if exit_code(exc) == EXIT_BAD_LOG else "could not check the log"
    console.print(Panel(body, title=title, border_style="red", expand=False))


# --- clearroom log monitor ----------------------------------------------------------------------


def _served_part(location: str) -> str:
    """A log folder made by ``clearroom log append`` serves its ``tiles/`` sub-folder: accept
    the folder itself too."""
    if "://" in location:
        return location
    tiles = Path(location).expanduser() / "tiles"
    if (
        not (Path(location).expanduser() / "checkpoint").exists()
        and (tiles / "checkpoint").exists()
    ):
        return str(tiles)
    return location


def _report_table(report: Report, location: str) -> Table:
    table = Table(title=f"Log verified: {report.origin}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Location", location)
    before = "first run" if report.previous_size is None else f"{report.previous_size:,}"
    table.add_row("Tree size", f"{before} → {report.size:,}")
    table.add_row("Root", base64.b64encode(report.root).decode())
    if report.previous_size in (None, 0):
        consistency = "nothing to compare (no earlier checkpoint)"
    elif report.previous_size == report.size:
        consistency = "same size, same root"
    else:
        consistency = (
            f"proved from size {report.previous_size:,} ({len(report.consistency_proof)} hashes)"
        )
    table.add_row("Consistency", f"[green]{consistency}[/]")
    table.add_row("Tiles", f"{report.tiles_fetched:,} fetched; root re-derived from level 0")
    table.add_row(
        "Entries", f"{report.entries_checked:,} re-hashed from {report.bundles_fetched:,} bundles"
    )
    table.add_row("Fetched", f"{report.bytes_fetched:,} bytes")
    rate = f", {report.entries_per_second:,.0f} entries/s" if report.entries_checked else ""
    table.add_row("Time", f"{report.seconds:.3f} s{rate}")
    for cosigner in report.cosigners:
        style = "green" if cosigner.status == "verified" else "yellow"
        when = ""
        if cosigner.timestamp is not None:
            when = f" at {datetime.fromtimestamp(cosigner.timestamp, UTC):%Y-%m-%d %H:%M:%S} UTC"
        table.add_row(
            f"Cosigner {cosigner.name}",
            f"[{style}]{cosigner.status}{when}[/] ({cosigner.key_id:08x})",
        )
    return table


@app.command()
def monitor(
    url: Annotated[str, typer.Argument(help="The log: an http(s):// URL or a directory.")],
    key: Annotated[str, typer.Option(help="The log's verifier key (name+hex8+base64), or a file.")],
    origin: Annotated[
        str | None, typer.Option(help="The log's origin line; defaults to the key's name.")
    ] = None,
    cosigner: Annotated[
        list[str] | None,
        typer.Option(help="A witness's verifier key (or a file); repeatable. Missing: warning."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(help="JSON file keeping the last verified checkpoint between runs."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    watch: Annotated[
        float | None,
        typer.Option(help="Check again every SECONDS until SIGTERM or SIGINT.", min=0.1),
    ] = None,
    timeout: Annotated[float, typer.Option(help="HTTP timeout per request, seconds.")] = 30.0,
    min_cosignatures: Annotated[
        int,
        typer.Option(help="Fail unless this many of the --cosigner witnesses cosigned.", min=0),
    ] = 0,
) -> None:
    """Verify a log and remember what was verified.

    Checks the checkpoint's signature (and cosignatures), its consistency with the last verified
    checkpoint, every tile and every new entry. Exits 0 if all is well, 1 if the log could not
    be checked, 3 with the evidence if the log is wrong."""
    from clearroom.cli.stopping import stop_signals
    from clearroom.tlog.client import open_fetcher
    from clearroom.tlog.errors import TlogError
    from clearroom.tlog.monitor import (
        FileMonitorState,
        MemoryMonitorState,
        Monitor,
        MonitorOptions,
    )

    out, err = Console(), Console(stderr=True)
    try:
        verifier = load_verifier(key)
        witnesses = [load_verifier(c, "--cosigner") for c in cosigner or []]
        options = MonitorOptions(min_cosignatures=min_cosignatures)
        fetcher = open_fetcher(_served_part(url), timeout=timeout)
    except TlogError as exc:
        _fail(exc, out, err, as_json)
    saved = MemoryMonitorState() if state is None else FileMonitorState(state)
    with fetcher:
        try:
            checker = Monitor(
                fetcher, verifier, origin=origin, cosigners=witnesses, state=saved, options=options
            )
        except TlogError as exc:
            _fail(exc, out, err, as_json)
        with stop_signals():  # --watch runs until SIGTERM or SIGINT
            run_checks(checker, url, out=out, err=err, as_json=as_json, watch=watch)


def run_checks(
    checker: Monitor,
    location: str,
    *,
    out: Console,
    err: Console,
    as_json: bool,
    watch: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run the monitor once, or every ``watch`` seconds until SIGTERM or SIGINT. In watch mode
    a log that cannot be reached is a warning and the next round tries again; bad data stops
    at once."""
    from clearroom.tlog.errors import TlogError

    try:
        while True:
            try:
                report = checker.run()
            except TlogError as exc:
                if watch is None or exit_code(exc) == EXIT_BAD_LOG:
                    _fail(exc, out, err, as_json)
                err.print(f"[yellow]warning:[/] {escape(str(exc))}; retrying in {watch:g} s")
            else:
                if as_json:
                    out.out(
                        json.dumps(report.to_dict(), indent=None if watch else 2), highlight=False
                    )
                else:
                    out.print(_report_table(report, location))
                for warning in report.warnings:
                    err.print(f"[yellow]warning:[/] {escape(warning)}")
            if watch is None:
                return
            sleep(watch)
    except KeyboardInterrupt:
        err.print("stopped")


def _fail(exc: TlogError, out: Console, err: Console, as_json: bool) -> NoReturn:
    if as_json:
        out.out(json.dumps(error_document(exc), indent=2), highlight=False)
    print_error(exc, err)
    raise typer.Exit(exit_code(exc))
