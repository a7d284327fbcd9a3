"""Public pages and API lists under load, on PostgreSQL with a large centre.

    .venv/bin/python bench/portal.py [--quick] [--seconds 20] [--record]

1. A fresh PostgreSQL database (``CLEARROOM_BENCH_POSTGRES``, default the local server's
   ``postgres`` database as the admin connection) is filled with 50 vendors, 1,000 products,
   10,000 published releases (one public artifact each) and 1,000,000 audit records (COPY).
2. ``clearroom serve`` runs on it (gunicorn, ``--workers`` processes of ``--threads`` threads,
   no embedded job runner), on loopback: first with the page cache off, then on (the default).
3. wrk - a second process - drives it with 50 connections for ``--seconds`` each: ``/healthz``
   (the stack's own floor, measured in the same run), public release pages picked at random
   from 1,000, and API list endpoints (a product's releases, a vendor's products) picked at
   random from 1,050. With the cache on, the first run starts from a fresh server (every page
   is rendered once per worker: "first visits"), then the steady state twice: as fast as the
   server answers (its most), and paced at 1,000 requests/s - twice the goal's rate.
   Goal: at least 500 requests/s with p99 at most 100 ms, checked on the paced runs (a
   closed-loop run that saturates both cores measures queueing, not the answer's latency);
   the cache-off runs are the baseline.

``--quick`` shrinks the data (20 products, 200 releases, 10,000 audit records) and the runs; the
test suite uses it as a smoke test. Needs ``wrk`` (Debian package) and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from _report import record, table
from _serve import serving

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "CLEARROOM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "clearroom_bench"
CONNECTIONS = 50
PACED = 1000
"""Twice the goal's 500 requests/s: the rate the latency goal is checked at."""


def _database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE


def _recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")


def _drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def seed(products: int, releases_per_product: int, audit_rows: int) -> None:
    """Run in a child process with the bench database configured."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from clearroom.server.accounts.models import Organisation
    from clearroom.server.catalog.models import Artifact, Product, Release

    call_command("migrate", interactive=False, verbosity=0)
    vendors = Organisation.objects.bulk_create(
        Organisation(slug=f"vendor-{v:02}", name=f"Vendor {v:02}", kind="vendor") for v in range(50)
    )
    made = Product.objects.bulk_create(
        Product(
            vendor=vendors[i % len(vendors)],
            slug=f"product-{i:04}",
            name=f"Product {i:04}",
            category="network",
        )
        for i in range(products)
    )
    now = timezone.now()
    releases = Release.objects.bulk_create(
        (
            Release(product=p, version=f"1.{r}.0", state="published", published_at=now)
            for p in made
            for r in range(releases_per_product)
        ),
        batch_size=5000,
    )
    Artifact.objects.bulk_create(
        (
            Artifact(
                release=r,
                name=f"{r.product.slug}-{r.version}.img",
                size=1 << 20,
                sha256=f"{r.pk:064x}",
            )
            for r in releases
        ),
        batch_size=5000,
    )
    rows = io.StringIO()
    for i in range(audit_rows):
        vendor = vendors[i % len(vendors)]
        rows.write(
            f"{now.isoformat()}\tmaterial:artifact:read\tallowed\tevaluator\t\t{vendor.pk}\t"
            f"{vendor.slug}\t\\N\t\tproduct-{i % products:04}\t127.0.0.1\t\t{{}}\n"
        )
    rows.seek(0)
    columns = (
        "time, action, outcome, actor_name, token_key_id, organisation_id, organisation_slug,"
        " actor_organisation_id, actor_organisation_slug, target, ip, request_id, details"
    )
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            while chunk := rows.read(1 << 20):
                copy.write(chunk)
        cursor.execute("ANALYZE")
    print(f"seeded {len(made)} products, {len(releases)} releases, {audit_rows} audit records")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    return {
        **env,
        "CLEARROOM_DATABASE_URL": _database_url(),
        "CLEARROOM_DATA_DIR": str(data_dir),
        "CLEARROOM_LOG_LEVEL": "WARNING",
        # the seeded audit records were never sealed; an embedded log writer would spend the
        # run sealing a million of them (a live centre seals as it goes)
        "CLEARROOM_TLOG_EMBEDDED": "false",
        "DJANGO_SETTINGS_MODULE": "clearroom.server.settings",
    }


def _wrk(
    base: str, paths: list[str], seconds: int, folder: Path, name: str, rate: int = 0
) -> dict[str, float]:
    """``rate`` 0: every connection sends its next request as soon as it has an answer (the
    most the server can do). Otherwise each waits a random pause first, about ``rate``
    requests/s in all (wrk's ``delay``; wrk2's corrected pacing is not packaged in Debian)."""
    script = folder / f"{name}.lua"
    listed = ",".join(f'"{p}"' for p in paths)
    pause_ms = max(1000 * CONNECTIONS // rate - 5, 0) if rate else 0  # ~5 ms to answer
    script.write_text(
        f"paths = {{{listed}}}\n"
        "math.randomseed(1)\n"
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
        + (f"delay = function() return math.random(0, {2 * pause_ms}) end\n" if rate else "")
        + "done = function(summary, latency, requests)\n"
        "  io.write(string.format('RESULT %d %d %d %.1f %.1f\\n', summary.requests,"
        " summary.errors.status + summary.errors.connect + summary.errors.read"
        " + summary.errors.write + summary.errors.timeout, summary.duration,"
        " latency:percentile(50), latency:percentile(99)))\n"
        "end\n"
    )
    done = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", done.stdout)
    assert found, done.stdout + done.stderr
    requests, errors, micros, p50, p99 = (float(x) for x in found.groups())
    return {
        "rps": requests / (micros / 1e6),
        "errors": errors,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


@contextlib.contextmanager
def _served(env: dict[str, str], args: argparse.Namespace) -> Iterator[str]:
    with serving(env, workers=args.workers, threads=args.threads, jobs=False) as server:
        yield server.base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--child-seed", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_seed:
        seed(*args.child_seed)
        return
    if shutil.which("wrk") is None:
        sys.exit("bench/portal.py needs wrk: apt-get install wrk")
    products, per_product, audit = (20, 10, 10_000) if args.quick else (1000, 10, 1_000_000)
    seconds = 3 if args.quick else args.seconds
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    env = _env(folder)
    _recreate_database()
    results: dict[str, dict[str, float]] = {}
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--child-seed", str(products), str(per_product), str(audit)],
            env=env,
            check=True,
            cwd=ROOT / "bench",
        )
        seeded = time.perf_counter() - started
        rng = random.Random(1)
        releases = [
            f"/orgs/vendor-{i % 50:02}/product-{i:04}/1.{rng.randrange(per_product)}.0/"
            for i in range(products)
        ]
        lists = [
            f"/api/products/vendor-{i % 50:02}/product-{i:04}/releases" for i in range(products)
        ]
        lists += [f"/api/organisations/vendor-{v:02}/products" for v in range(50)]

        def measure(name: str, paths: list[str], rate: int = 0) -> None:
            results[name] = _wrk(base, paths, seconds, folder, f"run{len(results)}", rate)

        with _served({**env, "CLEARROOM_PAGE_CACHE_MB": "0"}, args) as base:
            for path in (releases[0], lists[0], lists[-1]):
                began = time.perf_counter()
                response = httpx.get(base + path, timeout=120)
                took = time.perf_counter() - began
                print(f"{path}: {response.status_code} in {took * 1000:.0f} ms", flush=True)
                assert response.status_code == 200, (path, response.status_code)
            measure("healthz (the stack's floor)", ["/healthz"])
            measure("release pages, page cache off (baseline)", releases)
            measure("API lists, page cache off (baseline)", lists)
        with _served(env, args) as base:
            measure("release pages, first visits (cold cache)", releases)
            measure("release pages, as fast as answered", releases)
            measure(f"release pages, paced at {PACED:,}/s", releases, PACED)
            measure("API lists, first visits (cold cache)", lists)
            measure("API lists, as fast as answered", lists)
            measure(f"API lists, paced at {PACED:,}/s", lists, PACED)
    finally:
        _drop_database()
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        (
            "data: products / releases / audit records (seeded in)",
            f"{products:,} / {products * per_product:,} / {audit:,} ({seeded:.0f} s)",
            "",
        )
    ]
    for name, r in results.items():
        goal = ""
        if name.endswith(f"paced at {PACED:,}/s"):
            met = r["rps"] >= 500 and r["p99_ms"] <= 100 and not r["errors"]
            goal = f"≥ 500/s, p99 ≤ 100 ms {'met' if met else 'MISSED'}"
        rows.append(
            (
                f"{name}: {CONNECTIONS} connections, {seconds} s",
                f"{r['rps']:,.0f} requests/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms,"
                f" {r['errors']:.0f} errors",
                goal,
            )
        )
    markdown = table(
        rows, f"measure (gunicorn {args.workers} workers x {args.threads} threads, PostgreSQL)"
    )
    markdown += (
        "\n\nwrk runs on the same 2 cores as the server and the database, as the issue asks"
        ' (load from a second process on loopback). "As fast as answered": 50 connections'
        " each send the next request on the last answer, so both cores are saturated and p99"
        ' is time spent queueing behind other requests. "Paced": the same 50 connections'
        " each pause a random 0-90 ms between requests (about 1,000 requests/s in all, twice"
        " the goal's rate); the goal is checked there. The page cache serves anonymous"
        ' visitors; "cache off" is the same server with `page_cache_mb = 0`.\n'
    )
    print(markdown)
    if args.record:
        command = f".venv/bin/python bench/portal.py --seconds {args.seconds}"
        command += " --quick" if args.quick else ""
        record("bench/portal.py", markdown, command + " --record")


if __name__ == "__main__":
    main()
