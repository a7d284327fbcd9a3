"""bench/vulns.py still runs: the quick sizes (500 components, 5,000 generated advisories), its
table printed (nothing recorded). The figures themselves are the benchmark's business."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "vulns.py"
SHARED_OSV = ROOT.parent / "shared" / "data" / "osv"


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED_OSV / "PyPI.zip").exists(), reason="the shared OSV data is not present"
)
def test_bench_vulns_prints_its_table(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--quick",
            "--runs",
            "1",
            "--repeats",
            "1",
            "--work-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| store import PyPI.zip + Go.zip" in result.stdout
    assert "500 components / 5,000 advisories: scan(), first / repeat" in result.stdout
    assert list(tmp_path.iterdir()) == []  # the work directory is cleaned up
