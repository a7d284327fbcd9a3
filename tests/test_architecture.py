"""The layout's rules, enforced: core libraries never import Django (or the service), so they
can be used, tested and audited on their own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "clearroom"
CORES = [
    "attest",
    "blobs",
    "sbom",
    "standards",
    "tlog",
    "vulns",
]  # firmware and rebuild join as they land
FORBIDDEN = (
    "django",
    "ninja",
    "procrastinate",
    "clearroom.server",
    "clearroom.jobs",
    "clearroom.cli",
)


@pytest.mark.parametrize("core", CORES)
def test_core_sources_do_not_import_the_service(core):
    offenders = []
    for path in (SRC / core).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(SRC)}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []


@pytest.mark.parametrize("core", CORES)
def test_importing_a_core_loads_no_django(core):
    code = f"import sys, clearroom.{core}; print(sorted(m for m in sys.modules if m.startswith('django')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
