"""Time and peak memory of the commands an attacker feeds without end: issue 12's reproductions,
each in a fresh process, beside the same command on a normal input as the baseline.

    .venv/bin/python bench/hostile_inputs.py [--record]

- ``clearroom verify IMG --bundle /dev/zero``: read until the kernel killed it (22.9 GB) before
  the capped reader; now refused at the bundle's cap.
- ``clearroom verify IMG --online URL`` against a server that streams forever, and one that
  declares a terabyte: read 2.3 GiB then raised ``MemoryError``; now refused at the cap.
- ``clearroom vulns scan --format table`` of an SBOM whose one component has a 1 MB and a 10 MB
  name: 72 s and 1 GB, past two minutes; now the cell is shortened (JSON keeps the whole name).

Goal (the issue's): each refusal exits 2 "within seconds and under 100 MB"; the table costs
about what the JSON of the same SBOM costs. The baseline rows show the command's floor on this
machine (interpreter, imports) in the same run.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _report import record, table
from clearroom.attest.keys import FileSigner
from clearroom.tlog.note import generate_key
from vulns_memory import PACKAGE, make_store

MB = 1_000_000
VERIFY = [sys.executable, "-m", "clearroom.cli.entry", "verify"]
SCAN = [sys.executable, "-m", "clearroom.cli.main", "vulns", "scan"]


class _Endless(http.server.BaseHTTPRequestHandler):
    """Answers 200 and sends bytes until the client hangs up (``/declared``: after announcing
    a terabyte)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/declared"):
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        chunk = b"[" * 65536
        try:
            while True:
                self.wfile.write(chunk)
        except OSError:
            pass  # the client hung up

    def log_message(self, *args: object) -> None:
        pass


def measure(command: list[str]) -> tuple[int, float, float, str]:
    """(exit code, peak RSS in bytes, seconds, last line of stderr) of ``command``."""
    env = {**os.environ, "COLUMNS": "160"}
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, env=env)
        assert child.stderr is not None
        errors = child.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(child.pid, 0)
        child.stderr.close()
    seconds = time.perf_counter() - started
    last = next((line.strip() for line in reversed(errors.splitlines()) if line.strip()), "")
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, seconds, last


def policy(path: Path) -> None:
    _, log_key = generate_key("bench.example/log")
    vendor = FileSigner.generate().public_key.to_pem()
    centre = FileSigner.generate().public_key.to_pem()
    path.write_text(
        f'[log]\norigin = "bench.example/log"\nkey = "{log_key}"\n\n'
        f'[vendor]\norganisation = "acme"\nkeys = ["""{vendor}"""]\n'
        f'centre_keys = ["""{centre}"""]\n'
    )


def sbom(path: Path, name_bytes: int) -> None:
    long_name = "n" * name_bytes
    components = [
        {"type": "library", "bom-ref": "long", "name": long_name, "version": "1.0",
         "purl": f"pkg:pypi/{PACKAGE}@1.0"},
    ]  # fmt: skip
    document = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "app"}},
                "components": components}  # fmt: skip
    path.write_text(json.dumps(document))


def row(what: str, result: tuple[int, float, float, str], goal: str) -> tuple[str, str, str]:
    code, rss, seconds, _ = result
    return what, f"exit {code}, {seconds:,.1f} s, peak RSS {rss / MB:,.0f} MB", goal


def refused(result: tuple[int, float, float, str]) -> str:
    code, rss, seconds, _ = result
    ok = code == 2 and rss < 100 * MB and seconds < 10
    return "exit 2, < 10 s, < 100 MB: " + ("met" if ok else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    rows: list[tuple[str, str, str]] = []
    try:
        image, rules = work / "router.img", work / "policy.toml"
        image.write_bytes(b"firmware")
        policy(rules)
        verify = [*VERIFY, str(image), "--policy", str(rules), "--no-state"]
        empty = work / "empty.json"
        empty.write_text("{}")
        baseline = measure([*verify, "--bundle", str(empty)])
        rows.append(row("verify --bundle {} (baseline: refused at once)", baseline, ""))
        for what, extra in (
            ("verify --bundle /dev/zero", ["--bundle", "/dev/zero"]),
            ("verify --online: server streams forever", ["--online", f"{url}/forever"]),
            ("verify --online: server declares 1 TB", ["--online", f"{url}/declared"]),
        ):
            result = measure([*verify, *extra])
            rows.append(row(what, result, refused(result)))
        store = work / "advisories.sqlite3"
        make_store(store, 1)
        floor = None
        for size in (0, 1_000_000, 10_000_000):
            bom = work / f"bom-{size}.json"
            sbom(bom, size or 8)
            label = f"{size // 1_000_000} MB name" if size else "short name (baseline)"
            scan = [*SCAN, str(bom), "--db", str(store)]
            as_json = measure([*scan, "--format", "json"])
            as_table = measure([*scan, "--format", "table"])
            floor = floor or as_table
            goal = ""
            if size:
                ok = as_table[2] <= max(2 * as_json[2], floor[2] + 2)
                goal = "table within 2x JSON's time: " + ("met" if ok else "MISSED")
            rows.append(row(f"vulns scan --format json: {label}", as_json, ""))
            rows.append(row(f"vulns scan --format table: {label}", as_table, goal))
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    markdown = table(rows, "command (fresh process each)")
    markdown += (
        "\n\nBefore issue 12: `--bundle /dev/zero` read 22.9 GB until the kernel killed it; the "
        "endless `--online` server was read for 2.3 GiB, then `MemoryError`; the table of a 1 MB "
        "name took 72 s and 1 GB, of a 10 MB name over two minutes.\n"
    )
    print(markdown)
    if args.record:
        record(
            "bench/hostile_inputs.py", markdown, ".venv/bin/python bench/hostile_inputs.py --record"
        )


if __name__ == "__main__":
    main()
