"""A scan: components matched, VEX applied (newest wins), dependency paths given, and the
results in formats other tools read (the CycloneDX VDR checked against the official schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearroom.sbom.load import load_sbom
from clearroom.sbom.validate import validate_document
from clearroom.vulns.report import to_cyclonedx_vdr, to_sarif
from clearroom.vulns.scan import scan
from clearroom.vulns.store import AdvisoryStore
from clearroom.vulns.vex import load_vex

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"


@pytest.fixture
def store():
    with AdvisoryStore(":memory:") as s:
        records = json.loads((DATA / "advisories.json").read_text())
        s.import_records((r["id"], json.dumps(r).encode()) for r in records)
        yield s


def _scan(store, vex=True):
    documents = [load_vex((DATA / "vex.openvex.json").read_bytes())] if vex else []
    return scan(load_sbom(DATA / "app.cdx.json"), store, documents)


def test_findings_severity_fixed_versions_and_paths(store):
    result = _scan(store, vex=False)
    by_id = {f.finding.advisory_id: f for f in result.findings}
    assert set(by_id) == {"GHSA-scan-0001", "GHSA-scan-0002"}  # 0003 was fixed in 1.0.0
    webkit = by_id["GHSA-scan-0001"]
    assert webkit.status == "affected" and webkit.rating == "critical"
    assert webkit.finding.fixed_versions == ("2.0.1",)
    assert by_id["GHSA-scan-0002"].paths == (("app", "webkit", "parser"),)
    assert result.findings[0].finding.advisory_id == "GHSA-scan-0001"  # worst first
    assert result.counts()["critical"] == 1 and result.counts()["low"] == 1
    reasons = {n.name: n.reason for n in result.report.not_matchable}
    assert "vendored-thing" in reasons  # no purl: reported, never guessed


def test_the_vendors_vex_changes_a_findings_status(store):
    result = _scan(store)
    parser = next(f for f in result.findings if f.finding.advisory_id == "GHSA-scan-0002")
    assert parser.status == "not_affected" and parser.finding.status == "affected"
    assert parser.vex.justification == "vulnerable_code_not_in_execute_path"
    assert result.counts()["low"] == 0
    doc = result.to_dict()
    assert doc["advisory_snapshot"].startswith("sha256:")
    assert json.loads(json.dumps(doc))["findings"][1]["vex"]["status"] == "not_affected"


def test_sarif_lists_open_findings_only(store):
    sarif = to_sarif(_scan(store), "file:///app.cdx.json")
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert [r["ruleId"] for r in run["results"]] == ["GHSA-scan-0001"]
    assert run["results"][0]["level"] == "error"
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.8"


def test_the_cyclonedx_vdr_is_valid_cyclonedx_1_6(store):
    vdr = to_cyclonedx_vdr(_scan(store))
    report = validate_document(vdr)
    assert report.valid, [(i.path, i.message) for i in report.issues]
    analysis = {v["id"]: v.get("analysis") for v in vdr["vulnerabilities"]}
    assert analysis["GHSA-scan-0002"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "The streaming mode is never enabled.",
    }
    assert analysis["GHSA-scan-0001"] is None


def test_streamed_outputs_hold_every_finding_of_the_in_memory_scan(store):
    import io

    from clearroom.vulns.report import write_cyclonedx_vdr, write_json, write_sarif
    from clearroom.vulns.scan import ScanRun

    documents = [load_vex((DATA / "vex.openvex.json").read_bytes())]
    sbom = load_sbom(DATA / "app.cdx.json")
    whole = scan(sbom, store, documents).to_dict()
    out = io.StringIO()
    write_json(ScanRun(sbom, store, documents), out)
    streamed = json.loads(out.getvalue())
    key = lambda f: (f["component"]["ref"], f["advisory"])  # noqa: E731
    assert sorted(streamed.pop("findings"), key=key) == sorted(whole.pop("findings"), key=key)
    assert streamed == whole  # the totals too, written after the findings
    run = ScanRun(sbom, store, documents)
    out = io.StringIO()
    write_sarif(run.findings(), run.snapshot, "file:///app.cdx.json", out)
    assert [r["ruleId"] for r in json.loads(out.getvalue())["runs"][0]["results"]] == [
        "GHSA-scan-0001"
    ]
    run = ScanRun(sbom, store, documents)
    out = io.StringIO()
    write_cyclonedx_vdr(run.findings(), sbom, run.snapshot, out)
    assert validate_document(json.loads(out.getvalue())).valid
