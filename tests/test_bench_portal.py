"""bench/portal.py still runs: the quick sizes on a scratch PostgreSQL database, its table
printed (nothing recorded). The figures themselves are the benchmark's business."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "portal.py"
ADMIN = os.environ.get("CLEARROOM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres() -> bool:
    try:
        psycopg.connect(ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
@pytest.mark.skipif(not _postgres(), reason="no PostgreSQL to make a scratch database in")
def test_bench_portal_prints_its_table():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for row in ("page cache off (baseline)", "first visits (cold cache)", "paced at 1,000/s"):
        assert f"release pages, {row}" in result.stdout and f"API lists, {row}" in result.stdout
    assert "requests/s" in result.stdout and " 0 errors" in result.stdout
