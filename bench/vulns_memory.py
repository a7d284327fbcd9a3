"""Peak memory of `clearroom vulns scan` as the number of findings grows, beside the in-memory
scan it replaced.

    .venv/bin/python bench/vulns_memory.py [--quick] [--counts 10000 100000 500000] [--record]

Every scan runs in a fresh process (its peak RSS, ``ru_maxrss`` from ``wait4``, is its own) on
generated data: one PyPI package with ``--per-component`` advisories that all affect version
1.0, and an SBOM of ``findings / per-component`` components at that version (so the SBOM stays
small and the findings are what grows). Measured per count:

- ``clearroom vulns scan --format json`` (and, at the largest count, ``sarif``, ``cyclonedx``
  and ``table``), output to ``/dev/null``: findings are written as they are found.
- Baseline: ``scan()`` then ``json.dumps(result.to_dict())``, all findings held at once (what
  the command did before; the service's ``evaluate`` still collects one release's findings).

Goal: the streamed scan's peak RSS does not grow with the number of findings (within 10 % of
its value at the smallest count). Everything lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import record, table
from clearroom.vulns.store import AdvisoryStore

MB = 1_000_000
PACKAGE = "bench-many"


def make_store(path: Path, advisories: int) -> None:
    records = []
    for i in range(advisories):
        record_ = {
            "id": f"GHSA-mem{i:04d}-bnch-0000",
            "modified": "2024-05-01T00:00:00Z",
            "aliases": [f"CVE-2099-{i:05d}"],
            "summary": f"synthetic advisory {i} for {PACKAGE}",
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}
            ],
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": PACKAGE},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}
                    ],
                }
            ],
        }
        records.append((record_["id"], json.dumps(record_).encode()))
    with AdvisoryStore(path) as store:
        store.import_records(records)


def make_sbom(path: Path, components: int) -> None:
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "app"}},
        "components": [
            {
                "type": "library",
                "bom-ref": f"copy-{i}",
                "name": PACKAGE,
                "version": "1.0",
                "purl": f"pkg:pypi/{PACKAGE}@1.0",
            }
            for i in range(components)
        ],
    }
    path.write_text(json.dumps(document))


def measure(command: list[str]) -> tuple[float, float]:
    """(peak RSS in bytes, seconds) of ``command`` run to completion, output discarded."""
    env = {**os.environ, "COLUMNS": "160"}
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    assert child.stderr is not None
    errors = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{errors[-2000:]}")
    return usage.ru_maxrss * 1024, seconds


def baseline(store: str, sbom: str) -> None:
    """The in-memory way: every finding collected, sorted and dumped at once."""
    from clearroom.sbom.load import load_sbom
    from clearroom.vulns.scan import scan

    with AdvisoryStore(store) as opened:
        result = scan(load_sbom(sbom), opened)
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000 findings")
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--per-component", type=int, default=200)
    parser.add_argument(
        "--no-baseline-above", type=int, default=100_000, help="the baseline needs GBs beyond"
    )
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--baseline", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        baseline(*args.baseline)
        return
    counts = [2_000, 20_000] if args.quick else sorted(args.counts)
    per = args.per_component
    work = Path(tempfile.mkdtemp(prefix="bench-vulns-memory-", dir=args.work_dir))
    rows: list[tuple[str, str, str]] = []
    cli = [sys.executable, "-m", "clearroom.cli.main", "vulns", "scan"]
    try:
        store = work / "advisories.sqlite3"
        make_store(store, per)
        first_rss = 0.0
        for count in counts:
            sbom = work / f"bom-{count}.json"
            make_sbom(sbom, max(1, count // per))
            formats = ["json"] if count != counts[-1] else ["json", "sarif", "cyclonedx", "table"]
            for output in formats:
                rss, seconds = measure([*cli, str(sbom), "--db", str(store), "--format", output])
                first_rss = first_rss or rss
                ok = rss <= first_rss * 1.10
                rows.append(
                    (
                        f"{count:,} findings: vulns scan --format {output} (streamed)",
                        f"peak RSS {rss / MB:,.0f} MB ({seconds:,.1f} s)",
                        ""
                        if output != "json"
                        else f"≤ {first_rss * 1.1 / MB:,.0f} MB " + ("met" if ok else "MISSED"),
                    )
                )
            if count <= args.no_baseline_above:
                rss, seconds = measure(
                    [sys.executable, __file__, "--baseline", str(store), str(sbom)]
                )
                rows.append(
                    (
                        f"{count:,} findings: scan() + to_dict() in memory (baseline)",
                        f"peak RSS {rss / MB:,.0f} MB ({seconds:,.1f} s)",
                        "",
                    )
                )
            sbom.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    markdown = table(rows, f"measure ({per} advisories per component, fresh process each)")
    markdown += (
        "\n\nGenerated data: one PyPI package whose advisories all affect the SBOM's version; "
        "the number of components is findings / advisories per component. The table format "
        "keeps the 1,000 most severe findings and says how many it left out.\n"
    )
    print(markdown)
    if args.record:
        command = ".venv/bin/python bench/vulns_memory.py"
        command += " --quick" if args.quick else " --counts " + " ".join(map(str, counts))
        record("bench/vulns_memory.py", markdown, command + " --record")


if __name__ == "__main__":
    main()
