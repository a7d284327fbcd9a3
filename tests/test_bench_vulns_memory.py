"""bench/vulns_memory.py runs at its quick sizes, and the streamed scan's peak memory does not
grow with the number of findings (2,000 then 20,000: within 10 %), while the in-memory baseline's
does. Memory, not time, is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "vulns_memory.py"


@pytest.mark.slow
def test_scan_memory_stays_flat_as_findings_grow(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        m["measure"]: (int(m["mb"]), m["goal"])
        for m in re.finditer(
            r"^\| (?P<measure>[^|]+?) +\| peak RSS (?P<mb>[\d,]+) MB[^|]*\|(?P<goal>[^|]*)\|",
            result.stdout.replace(",", ""),
            re.M,
        )
    }
    small = rows["2000 findings: vulns scan --format json (streamed)"]
    large = rows["20000 findings: vulns scan --format json (streamed)"]
    assert "met" in small[1] and "met" in large[1]
    assert large[0] <= small[0] * 1.1
    baseline = rows["20000 findings: scan() + to_dict() in memory (baseline)"][0]
    assert baseline > large[0]  # what streaming saves
    assert list(tmp_path.iterdir()) == []
