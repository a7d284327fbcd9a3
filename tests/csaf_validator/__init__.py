"""The OASIS CSAF 2.0 reference validator (``@secvisogram/csaf-validator-lib``, pinned in
``package-lock.json`` here; ``scripts/test`` installs it with ``npm ci``) run by Node on the CSAF
documents the suite produces: the strict schema, every mandatory test (6.1) and every optional
test (6.2). The session fixture ``oasis_csaf`` in ``tests/conftest.py`` starts one Node process
(loading the library takes seconds) and stops it at the end."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent
INSTALL = "run scripts/test (or: cd tests/csaf_validator && npm ci) to install it"


class OasisCsaf:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(f"the OASIS CSAF validator needs Node.js (nodejs); {INSTALL}")
        if not (FOLDER / "node_modules" / "@secvisogram" / "csaf-validator-lib").is_dir():
            raise RuntimeError(f"the OASIS CSAF validator is not installed; {INSTALL}")
        self.folder = tempfile.TemporaryDirectory()
        self.count = 0
        self.process = subprocess.Popen(
            [node, str(FOLDER / "validate.mjs"), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=FOLDER,
            text=True,
        )

    def problems(self, body: bytes, *, allow: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Every error and warning of the schema, mandatory and optional tests on ``body``,
        except those of the optional tests named in ``allow``."""
        self.count += 1
        document = Path(self.folder.name) / f"{self.count}.json"
        document.write_bytes(body)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{document}\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline() or '{"error": "node stopped"}')
        assert "error" not in answer, answer["error"]
        return [p for p in answer["problems"] if p["test"] not in allow]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.folder.cleanup()
