"""Every third-party module the package imports is a declared runtime dependency, so the README's
demo command (which installs only requirements/main.txt) never meets a missing module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "clearroom"
REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements" / "main.txt"
# import name -> distribution name where they differ
DISTRIBUTIONS = {
    "dj_database_url": "dj-database-url",
    "prometheus_client": "prometheus-client",
    "ninja": "django-ninja",
    "yaml": "pyyaml",
    "pkcs11": "python-pkcs11",
    "packageurl": "packageurl-python",
    "packaging_legacy": "packaging-legacy",
}


def test_runtime_imports_are_in_the_runtime_lock():
    locked = {
        line.split("==")[0].strip().lower()
        for line in REQUIREMENTS.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else (
                    [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    else []
                )
            )
            for name in names:
                top = name.split(".")[0]
                if top == "clearroom" or top in sys.stdlib_module_names:
                    continue
                if DISTRIBUTIONS.get(top, top).lower().replace("_", "-") not in locked:
                    missing.add(f"{top} ({path.relative_to(SRC)})")
    assert missing == set()
