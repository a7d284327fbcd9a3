"""bench/hostile_inputs.py runs issue 12's reproductions and each hostile input to the verifier
is refused with exit 2 under 100 MB. Exit codes and memory, not time, are asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "hostile_inputs.py"


@pytest.mark.slow
def test_hostile_inputs_bench_refuses_each_attack_in_bounded_memory():
    result = subprocess.run(
        [sys.executable, str(BENCH)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr
    rows = {
        m["command"]: (int(m["code"]), int(m["mb"]))
        for m in re.finditer(
            r"^\| (?P<command>[^|]+?) +\| exit (?P<code>\d+) [\d.]+ s peak RSS (?P<mb>\d+) MB",
            result.stdout.replace(",", ""),
            re.M,
        )
    }
    for attack in (
        "verify --bundle /dev/zero",
        "verify --online: server streams forever",
        "verify --online: server declares 1 TB",
    ):
        code, mb = rows[attack]
        assert code == 2 and mb < 100, (attack, code, mb)
    assert rows["vulns scan --format table: 10 MB name"][0] == 0
