"""`clearroom sbom check` and `clearroom vulns sync|scan` as a user runs them: offline, on files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearroom.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


@pytest.fixture
def db(tmp_path):
    advisories = tmp_path / "osv"
    advisories.mkdir()
    for record in json.loads((DATA / "scan" / "advisories.json").read_text()):
        (advisories / f"{record['id']}.json").write_text(json.dumps(record))
    path = tmp_path / "advisories.sqlite3"
    result = _cli("vulns", "sync", "--from", str(advisories), "--db", str(path))
    assert result.returncode == 0, result.stderr
    assert "3 added" in result.stdout and "snapshot sha256:" in result.stdout
    return path


def test_scan_in_every_format(db):
    sbom, vex = DATA / "scan" / "app.cdx.json", DATA / "scan" / "vex.openvex.json"
    table = _cli("vulns", "scan", str(sbom), "--db", str(db), "--vex", str(vex))
    assert table.returncode == 0, table.stderr
    assert "GHSA-scan-0001" in table.stdout and "not_affected" in table.stdout
    doc = json.loads(_cli("vulns", "scan", str(sbom), "--db", str(db), "--format", "json").stdout)
    assert {f["advisory"] for f in doc["findings"]} == {"GHSA-scan-0001", "GHSA-scan-0002"}
    sarif = json.loads(
        _cli("vulns", "scan", str(sbom), "--db", str(db), "--format", "sarif").stdout
    )
    assert sarif["version"] == "2.1.0"
    vdr = json.loads(
        _cli("vulns", "scan", str(sbom), "--db", str(db), "--format", "cyclonedx").stdout
    )
    assert vdr["bomFormat"] == "CycloneDX" and vdr["vulnerabilities"]
    gate = _cli("vulns", "scan", str(sbom), "--db", str(db), "--fail-on", "high")
    assert gate.returncode == 1


def test_clear_errors_without_a_store_or_with_a_bad_sbom(tmp_path, db):
    missing = _cli(
        "vulns", "scan", str(DATA / "scan" / "app.cdx.json"), "--db", str(tmp_path / "x")
    )
    assert missing.returncode == 1 and "clearroom vulns sync" in missing.stderr
    (tmp_path / "bad.json").write_text('{"not": "an sbom"}')
    bad = _cli("vulns", "scan", str(tmp_path / "bad.json"), "--db", str(db))
    assert bad.returncode == 1 and "SBOM" in bad.stderr and "Traceback" not in bad.stderr


def test_sbom_check_reports_quality_and_schema():
    sbom = DATA / "scan" / "app.cdx.json"
    result = _cli("sbom", "check", str(sbom))
    assert result.returncode == 0, result.stderr
    assert "NTIA" in result.stdout and "BSI" in result.stdout and "Schema: valid" in result.stdout
    doc = json.loads(_cli("sbom", "check", str(sbom), "--json").stdout)
    assert doc["components"] == 4 and doc["quality"]["ntia"]["score"] > 0
