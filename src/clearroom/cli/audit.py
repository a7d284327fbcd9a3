"""``clearroom audit``: seal the audit trail into the log, check the stored trail against the
log, and check an exported trail (a vendor's or an evaluator's) without the centre's database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clearroom.errors import ClearroomError
from clearroom.untrusted import MalformedInput, parse_json, read_capped

MAX_EXPORT_BYTES = 1 << 30
"""An exported trail comes from someone else: it is read with this cap before it is parsed."""

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
console = Console()


@app.command()
def seal() -> None:
    """Seal the records written since the last batch now (the log's writer also does it every
    ``audit_seal_seconds``)."""
    from clearroom.cli import _django

    _django.setup()
    from clearroom.server.audit import services

    batches = services.seal()
    if not batches:
        console.print("Nothing to seal: every record is in a batch.")
    for batch in batches:
        console.print(
            f"batch {batch.sequence}: {batch.count} records (ids {batch.first}-{batch.last}),"
            f" root {batch.root}"
        )


@app.command()
def verify(
    export: Annotated[
        Path | None,
        typer.Option(
            help="An exported trail (JSON from /api/organisations/ORG/audit) to check instead"
            " of the centre's database: each record against its batch root."
        ),
    ] = None,
    log_key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key (name+hash+base64), got out of band."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check the stored audit trail against the transparency log: every sealed batch must hash
    to the root the log holds, follow the batch before it, and be in the signed checkpoint.
    Exit 0 when all is well, 1 when a record or batch was altered."""
    if export is not None:
        _verify_export(export, log_key, as_json)
        return
    from clearroom.cli import _django

    _django.setup()
    from clearroom.server.audit import services

    result = services.verify()
    summary = {
        "ok": result.ok,
        "batches": result.batches,
        "records": result.records,
        "unsealed": result.unsealed,
        "not_yet_in_a_checkpoint": result.not_yet_logged,
        "problems": result.problems,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        _show(summary)
    if not result.ok:
        raise typer.Exit(1)


def _show(summary: dict[str, object]) -> None:
    table = Table(show_header=False, box=None)
    for key in ("batches", "records", "unsealed", "not_yet_in_a_checkpoint"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    console.print(table)
    problems = summary["problems"]
    assert isinstance(problems, list)
    for problem in problems:
        console.print(f"[bold red]✗[/] {problem}", highlight=False)
    if not problems:
        console.print("[bold green]✓[/] the stored trail matches the log")


def _verify_export(path: Path, log_key: str | None, as_json: bool) -> None:
    data = read_capped(path, MAX_EXPORT_BYTES, what="audit: the export")
    try:
        exported = parse_json(data, what=f"audit: {path}")
        events, batches = exported["events"], exported["batches"]
    except (MalformedInput, KeyError, TypeError) as exc:
        raise ClearroomError(f"audit: {path} is not an exported trail ({exc})") from None
    if log_key is None:
        log_key = str(exported.get("log", {}).get("verifier_key", ""))
        console.print(
            "[yellow]![/] no --log-key given: trusting the key inside the export; get the"
            " log's key from the centre out of band and pass it to be sure",
            highlight=False,
        )
    problems = check_export(events, batches, log_key)
    unsealed = sum(1 for e in events if e.get("batch") is None)
    summary = {
        "ok": not problems,
        "records": len(events),
        "unsealed": unsealed,
        "batches": len(batches),
        "problems": problems,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"{len(events) - unsealed} sealed records in {len(batches)} batches checked,"
            f" {unsealed} not sealed yet"
        )
        for problem in problems:
            console.print(f"[bold red]✗[/] {problem}", highlight=False)
        if not problems:
            console.print("[bold green]✓[/] every sealed record is under a root the log holds")
    if problems:
        raise typer.Exit(1)


def check_export(events: list[Any], batches: dict[str, Any], log_key: str) -> list[str]:
    """Each batch's fact must be in the log (its receipt verifies under ``log_key``) and name
    the batch's root; each sealed record must be under that root."""
    from clearroom.server.audit import chain
    from clearroom.tlog import facts
    from clearroom.tlog.errors import TlogError
    from clearroom.tlog.note import parse_verifier_key
    from clearroom.tlog.receipt import Receipt, verify_receipt

    problems: list[str] = []
    roots: dict[str, tuple[str, int]] = {}
    try:
        verifier = parse_verifier_key(log_key)
    except TlogError as exc:
        return [f"the log key is not usable: {exc}"]
    for sequence, batch in batches.items():
        try:
            entry = str(batch["log_entry"]).encode()
            fact = facts.parse_fact(entry)
            if fact["fact"] != facts.AUDIT_BATCH or str(fact["sequence"]) != sequence:
                raise ValueError("it is not this batch's fact")
            if batch.get("receipt") is None:
                problems.append(f"batch {sequence}: not in a published checkpoint yet")
            else:
                verify_receipt(Receipt.parse(batch["receipt"]), entry, verifier)
            roots[sequence] = (fact["root"], fact["count"])
        except (TlogError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"batch {sequence}: its log fact does not check out ({exc})")
    for event in events:
        where, record = event.get("batch"), event.get("record", {})
        if where is None:
            continue
        found = roots.get(str(where.get("sequence")))
        if found is None:
            problems.append(f"record {record.get('id')}: its batch is not verified")
            continue
        proof = [bytes.fromhex(h) for h in where.get("proof", [])]
        if not chain.check_member(record, where.get("position", -1), found[1], proof, found[0]):
            problems.append(
                f"record {record.get('id')}: differs from what batch {where.get('sequence')}"
                " sealed (changed after sealing)"
            )
    return problems
