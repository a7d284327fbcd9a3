"""``clearroom sbom check`` and ``clearroom vulns sync|scan``: the SBOM and vulnerability cores
on a laptop, offline, no server — the same code the centre runs, so a result here and on the
portal agree (each names the advisory snapshot it used)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearroom.errors import ClearroomError
from clearroom.untrusted import read_capped
from clearroom.vulns.vex.model import MAX_VEX_BYTES

sbom_app = typer.Typer(
    name="sbom", help="Read and assess SBOMs.", no_args_is_help=True, add_completion=False
)
vulns_app = typer.Typer(
    name="vulns",
    help="Advisories (OSV) and vulnerability scans of SBOMs, with VEX.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(soft_wrap=True)
FORMATS = ("table", "json", "sarif", "cyclonedx")


def default_db() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clearroom" / "advisories.sqlite3"


Db = Annotated[Path | None, typer.Option(help=f"The advisory store (default {default_db()}).")]
Sources = Annotated[
    list[Path] | None,
    typer.Option("--from", help="OSV files, directories or all.zip archives (offline)."),
]
Ecosystems = Annotated[
    list[str] | None,
    typer.Option(help="Download osv.dev's all.zip for this ecosystem (online); repeatable."),
]


def _advisory_paths(
    sources: list[Path] | None, ecosystems: list[str] | None, downloads: Path
) -> list[Path]:
    """What to import: the given files, plus osv.dev's archives downloaded now."""
    from clearroom.vulns.store import sync_online

    paths: list[Path] = list(sources or [])
    if ecosystems:
        paths += sync_online(ecosystems, downloads)
    if not paths:
        raise ClearroomError("vulns: give --from PATH (offline) or --ecosystem NAME (online)")
    return paths


def _dump(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


@sbom_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="A CycloneDX or SPDX document.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    validate: Annotated[
        bool, typer.Option(help="Also validate strictly against the format's schema.")
    ] = True,
) -> None:
    """Parse an SBOM, score it against NTIA and BSI TR-03183-2, and report schema problems."""
    from clearroom.sbom import quality
    from clearroom.sbom.load import load_sbom
    from clearroom.sbom.validate import validate_sbom

    sbom = load_sbom(file)
    report = quality.assess(sbom)
    validation = validate_sbom(file) if validate else None
    if as_json:
        _dump(
            {
                "format": sbom.format,
                "spec_version": sbom.spec_version,
                "components": len(sbom.components),
                "warnings": list(sbom.warnings),
                "quality": report.to_dict(),
                "validation": validation.to_dict() if validation else None,
            }
        )
        return
    header = Text.assemble(
        (file.name, "bold"),
        f": {sbom.format} {sbom.spec_version}, {len(sbom.components)} components",
        ", subject " if sbom.subject else "",
        _cell(sbom.subject.name) if sbom.subject else "",
    )
    console.print(header, highlight=False)
    for warning in sbom.warnings:
        console.print(Text.assemble("  ", ("warning", "yellow"), " ", _cell(warning)))
    table = Table(title="Quality", title_justify="left")
    for column in ("standard", "score", "weakest elements (share present)"):
        table.add_column(column)
    for standard in (report.ntia, report.bsi):
        worst = sorted(standard.elements.items(), key=lambda item: item[1])[:3]
        table.add_row(
            standard.standard,
            f"{standard.score:.1f} %",
            ", ".join(f"{name} ({_percent(share)})" for name, share in worst),
        )
    console.print(table)
    if validation is not None:
        state = Text(validation.summary(), "green" if validation.valid else "")
        console.print(Text.assemble("Schema: ", state), highlight=False)
        for issue in validation.issues[:20]:
            console.print(Text.assemble("  ", _cell(f"{issue.path}: {issue.message}")))


def _percent(share: float) -> str:
    return f"{share:.0f} %"  # the quality report's shares are already percentages


@vulns_app.command()
def sync(
    sources: Sources = None,
    ecosystem: Ecosystems = None,
    db: Db = None,
) -> None:
    """Import advisories into the store: incremental (by `modified`), aliases merged; prints
    the new snapshot digest that scans will name."""
    from clearroom.vulns.store import AdvisoryStore

    path = db or default_db()
    path.parent.mkdir(parents=True, exist_ok=True)
    paths = _advisory_paths(sources, ecosystem, path.parent / "downloads")
    with AdvisoryStore(path) as store:
        report = store.import_paths(paths)
    console.print(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged,"
        f" {report.withdrawn} withdrawn, {len(report.rejected)} rejected"
        f" in {report.seconds:.2f} s; snapshot {report.snapshot}",
        highlight=False,
    )
    for rejection in report.rejected[:20]:
        console.print(f"  [yellow]rejected[/] {rejection.source}: {rejection.reason}")


@vulns_app.command("import")
def import_(
    sources: Sources = None,
    ecosystem: Ecosystems = None,
) -> None:
    """Import advisories into the centre (its configured store) and queue the re-evaluation of
    every published release that contains a package the import changed."""
    from clearroom.cli import _django

    _django.setup()
    from django.conf import settings

    from clearroom.server.vulnerabilities.services import import_advisories

    downloads = settings.CONFIG.effective_advisory_db.parent / "downloads"
    paths = _advisory_paths(sources, ecosystem, downloads)
    report, releases = import_advisories(paths)
    console.print(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged,"
        f" {len(report.rejected)} rejected; snapshot {report.snapshot};"
        f" {len(report.changed_packages)} packages changed, {releases} releases queued for"
        " re-evaluation",
        highlight=False,
    )


@vulns_app.command()
def scan(
    sbom_file: Annotated[Path, typer.Argument(help="The SBOM to scan.")],
    db: Db = None,
    vex: Annotated[
        list[Path] | None, typer.Option(help="A VEX document (OpenVEX, CSAF, CycloneDX).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table, json, sarif or cyclonedx (a VDR).")
    ] = "table",
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 when an open finding is this severe or worse (e.g. high), or unrated."
        ),
    ] = None,
) -> None:
    """Match every component against the advisory store and apply the vendor's VEX.

    Findings are written as they are found (JSON, SARIF and CycloneDX in component order), so
    memory does not grow with their number; the table shows the most severe
    :data:`TABLE_ROWS` of them, each cell shortened to :data:`CELL_CHARS` characters."""
    from clearroom.sbom.load import load_sbom
    from clearroom.vulns.report import write_cyclonedx_vdr, write_json, write_sarif
    from clearroom.vulns.scan import SEVERITY_ORDER, ScanRun
    from clearroom.vulns.store import AdvisoryStore
    from clearroom.vulns.vex import load_vex

    # every option is checked before anything is read or matched
    if output_format not in FORMATS:
        raise ClearroomError(f"vulns: --format must be one of {', '.join(FORMATS)}")
    if fail_on is not None and fail_on not in SEVERITY_ORDER:
        raise ClearroomError(f"vulns: --fail-on must be one of {', '.join(SEVERITY_ORDER)}")
    path = db or default_db()
    if not path.exists():
        raise ClearroomError(
            f"vulns: no advisory store at {path}; import advisories first with"
            " `clearroom vulns sync --from PATH` (or --ecosystem NAME online)"
        )
    sbom = load_sbom(sbom_file)
    documents = [load_vex(read_capped(p, MAX_VEX_BYTES, what="vex")) for p in vex or []]
    with AdvisoryStore(path) as store:
        run = ScanRun(sbom, store, documents)
        if output_format == "json":
            write_json(run, sys.stdout)
        elif output_format == "sarif":
            uri = sbom_file.as_uri() if sbom_file.is_absolute() else str(sbom_file)
            write_sarif(run.findings(), run.snapshot, uri, sys.stdout)
        elif output_format == "cyclonedx":
            write_cyclonedx_vdr(run.findings(), sbom, run.snapshot, sys.stdout)
        else:
            _table(run, sbom_file)
    if fail_on is not None:
        # Fail closed: an open finding without a severity rating counts as severe, and so
        # does a component whose version could not be read against its package's advisories.
        worst = {*SEVERITY_ORDER[: SEVERITY_ORDER.index(fail_on) + 1], "unknown"}
        undecided = any(n.reason.startswith("unparsable version") for n in run.match.not_matchable)
        if undecided or any(run.counts[rating] for rating in worst):
            raise typer.Exit(1)


TABLE_ROWS = 1000
"""The table keeps the most severe findings up to this many (the JSON formats list all)."""
CELL_CHARS = 200
"""A table cell longer than this is cut, saying how long it was (JSON keeps the value)."""


def _cell(value: str) -> Text:
    """A table cell: plain text (never rich markup) of bounded length."""
    if len(value) > CELL_CHARS:
        value = f"{value[:CELL_CHARS]}… ({len(value):,} chars)"
    return Text(value)


def _table(run: Any, sbom_file: Path) -> None:
    from clearroom.vulns.scan import SEVERITY_ORDER

    kept: list[tuple[int, str, int, list[Text]]] = []
    for index, f in enumerate(run.findings()):
        vex = f" ({f.vex.justification})" if f.vex is not None and f.vex.justification else ""
        rank = SEVERITY_ORDER.index(f.rating) if f.rating in SEVERITY_ORDER else len(SEVERITY_ORDER)
        name = f.finding.component_name[:CELL_CHARS]
        row = [
            _cell(f.rating),
            _cell(f.finding.component_name),
            _cell(f.finding.component_version),
            _cell(" ".join([f.finding.advisory_id, *f.finding.aliases[:2]])),
            _cell(f.status + vex),
            _cell(", ".join(f.finding.fixed_versions) or "-"),
        ]
        kept.append((rank, name, index, row))
        if len(kept) >= 2 * TABLE_ROWS:  # bounded: keep the worst, drop the rest
            kept = sorted(kept, key=lambda k: k[:3])[:TABLE_ROWS]
    kept = sorted(kept, key=lambda k: k[:3])[:TABLE_ROWS]
    table = Table(
        title=Text(
            f"{sbom_file.name}: {len(run.sbom.components)} components,"
            f" {run.match.matched} matchable, {run.total} findings"
        ),
        title_justify="left",
    )
    for column in ("severity", "component", "version", "advisory", "status", "fixed in"):
        table.add_column(column, overflow="fold")
    for *_, row in kept:
        table.add_row(*row)
    console.print(table)
    if any(len(cell) > CELL_CHARS for *_, row in kept for cell in row):
        console.print(
            f"Cells longer than {CELL_CHARS} characters are shortened; --format json has the"
            " full values.",
            highlight=False,
        )
    if run.total > len(kept):
        console.print(
            f"Showing the {len(kept)} most severe of {run.total} findings; --format json lists"
            " all of them.",
            highlight=False,
        )
    counts = ", ".join(f"{n} {rating}" for rating, n in run.counts.items() if n)
    console.print(f"Open: {counts or 'none'}. Advisory snapshot {run.snapshot[:16]}…")
    not_matchable = run.match.not_matchable
    if not_matchable:
        unparsable = sum(1 for n in not_matchable if n.reason.startswith("unparsable version"))
        console.print(
            f"{len(not_matchable)} components could not be matched (no purl, an ecosystem"
            " without advisories"
            + (
                f", or {unparsable} with a version their ecosystem cannot read"
                if unparsable
                else ""
            )
            + "); see --format json",
            highlight=False,
        )
