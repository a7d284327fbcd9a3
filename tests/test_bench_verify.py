"""bench/verify.py still runs: a tiny release verified end to end, its table printed (nothing
recorded). The figures themselves are the benchmark's business, not the test suite's."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "verify.py"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_bench_verify_prints_its_table(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--size-mib",
            "1",
            "--runs",
            "1",
            "--small-runs",
            "1",
            "--work-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| clearroom verify / openssl" in result.stdout
    assert "clearroom verify, small artifact, start to verdict" in result.stdout
    assert list(tmp_path.iterdir()) == []  # the work directory is cleaned up
