"""`clearroom sbom check` and `clearroom vulns sync|scan` as a user runs them: offline, on files."""

from __future__ import annotations

import json
import os
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
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
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


def _app_sbom(tmp_path, **changes):
    """The scan fixture's SBOM with the webkit component (which has findings) changed."""
    doc = json.loads((DATA / "scan" / "app.cdx.json").read_text())
    doc["components"][0].update(changes)
    path = tmp_path / "changed.cdx.json"
    path.write_text(json.dumps(doc))
    return path


def test_scan_table_with_1mb_component_name_is_shortened(tmp_path, db):
    name = "w" * 1_000_000
    sbom = _app_sbom(tmp_path, name=name)
    table = _cli("vulns", "scan", str(sbom), "--db", str(db))
    assert table.returncode == 0, table.stderr[-2000:]
    assert "Cells longer than 200 characters are shortened; --format json has" in table.stdout
    assert "chars)" in table.stdout and "w" * 1000 not in table.stdout
    assert len(table.stdout) < 20_000 and "GHSA-scan-0001" in table.stdout
    doc = json.loads(_cli("vulns", "scan", str(sbom), "--db", str(db), "--format", "json").stdout)
    assert {f["component"]["name"] for f in doc["findings"]} >= {name}


def test_scan_table_cells_are_text_not_markup(tmp_path, db):
    sbom = _app_sbom(tmp_path, name="[/][bold]webkit")
    table = _cli("vulns", "scan", str(sbom), "--db", str(db))
    assert table.returncode == 0 and "Traceback" not in table.stderr
    assert "[/][bold]webkit" in table.stdout


def test_bad_fail_on_refused_before_scan(tmp_path, db):
    # refused before the SBOM is even read: a missing SBOM is not what it complains about
    result = _cli(
        "vulns", "scan", str(tmp_path / "absent.json"), "--db", str(db), "--fail-on", "hihg"
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--fail-on must be one of critical, high" in result.stderr
    assert result.stdout == ""


def test_fail_on_counts_a_component_whose_version_cannot_be_read(tmp_path, db):
    sbom = _app_sbom(tmp_path, version="not a version!", purl="pkg:npm/webkit@not%20a%20version!")
    doc = json.loads(_cli("vulns", "scan", str(sbom), "--db", str(db), "--format", "json").stdout)
    (unreadable,) = [n for n in doc["not_matchable"] if n["ref"] == "webkit"]
    assert unreadable["reason"].startswith("unparsable version:")
    assert not [f for f in doc["findings"] if f["component"]["ref"] == "webkit"]
    gate = _cli("vulns", "scan", str(sbom), "--db", str(db), "--fail-on", "critical")
    assert gate.returncode == 1  # undecided is not clean: fail closed


def test_sbom_check_xml_says_schema_not_checked():
    result = _cli("sbom", "check", str(DATA / "sbom" / "cyclonedx-1.4.xml"))
    assert result.returncode == 0, result.stderr
    assert (
        "Schema: not checked (strict schema checks exist for JSON encodings only" in result.stdout
    )
    assert "0 issues" not in result.stdout


def test_sbom_check_cut_short_says_so(tmp_path):
    bom: dict = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}
    level = bom["components"]
    for i in range(300):
        level.append({"type": "library", "name": f"c{i}", "components": []})
        level = level[0]["components"]
    (tmp_path / "deep.cdx.json").write_text(json.dumps(bom))
    result = _cli("sbom", "check", str(tmp_path / "deep.cdx.json"))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "found before the check was cut short" in result.stdout
    assert "nested too deeply to check" in result.stdout


def test_sbom_check_of_xml_nested_300_deep_warns_without_a_traceback(tmp_path):
    depth = 300
    opening = "".join(
        f'<component type="library"><name>c{i}</name><components>' for i in range(depth)
    )
    xml = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
        + opening
        + "</components></component>" * depth
        + "</components></bom>"
    )
    (tmp_path / "deep.xml").write_text(xml)
    result = _cli("sbom", "check", str(tmp_path / "deep.xml"))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "33 components" in result.stdout
    assert "warning components nested deeper than 32 ignored" in result.stdout


def test_scan_table_keeps_the_most_severe_findings_and_says_how_many_it_left_out(tmp_path):
    advisories = tmp_path / "osv"
    advisories.mkdir()
    critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    for i in range(60):
        record = {
            "id": f"GHSA-many-{i:04d}",
            "modified": "2024-01-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": critical}] if i < 10 else [],
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "many"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                }
            ],
        }
        (advisories / f"{record['id']}.json").write_text(json.dumps(record))
    db = tmp_path / "advisories.sqlite3"
    assert _cli("vulns", "sync", "--from", str(advisories), "--db", str(db)).returncode == 0
    components = [
        {"type": "library", "bom-ref": f"c{i}", "name": "many", "version": "1.0",
         "purl": "pkg:pypi/many@1.0"}
        for i in range(20)
    ]  # fmt: skip
    sbom = tmp_path / "many.cdx.json"
    sbom.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components})
    )
    table = _cli("vulns", "scan", str(sbom), "--db", str(db))
    assert table.returncode == 0, table.stderr[-2000:]
    assert "1200 findings" in table.stdout
    assert "Showing the 1000 most severe of 1200 findings; --format json lists all" in table.stdout
    rows = [line for line in table.stdout.splitlines() if "GHSA-many-" in line]
    assert len(rows) == 1000
    assert sum("critical" in row for row in rows) == 200  # every critical one is kept
    assert "Open: 200 critical, 1000 unknown" in table.stdout


def test_scan_vex_file_from_dev_zero_is_refused_at_the_cap(db):
    sbom = DATA / "scan" / "app.cdx.json"
    result = _cli("vulns", "scan", str(sbom), "--db", str(db), "--vex", "/dev/zero")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "vex: /dev/zero is larger than the limit of 33,554,432 bytes" in result.stderr
