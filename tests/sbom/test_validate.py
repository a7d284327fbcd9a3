"""The strict validation report: official CycloneDX schemas, per-item paths, bounded work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearroom.sbom import SbomError, validate_sbom

DATA = Path(__file__).resolve().parents[1] / "data" / "sbom"


def test_schema_issues_name_their_path():
    report = validate_sbom(DATA / "cyclonedx-1.6-quirks.json")
    assert report.checked_against == "CycloneDX 1.6 JSON schema"
    assert report.complete and not report.valid
    paths = {issue.path for issue in report.issues}
    assert {
        "components[0].hashes[0].content",  # not hex of a known length
        "components[0].hashes[3]",  # content missing
        "components[1].version",  # a number, not a string
        "components[3]",  # not an object
        "components[4]",  # no name
        "dependencies[2]",  # no ref
    } <= paths


def test_a_valid_document_has_no_issues(tmp_path):
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.4",
        "version": 1,
        "metadata": {"timestamp": "2024-01-01T00:00:00Z"},
        "components": [{"type": "library", "name": "a", "version": "1", "purl": "pkg:pypi/a@1"}],
    }
    report = validate_sbom(json.dumps(bom).encode())
    assert (report.valid, report.issues, report.checked_against) == (
        True,
        (),
        "CycloneDX 1.4 JSON schema",
    )
    bom["specVersion"] = "1.7"  # newer than the schemas we carry: checked against the newest
    assert validate_sbom(json.dumps(bom).encode()).checked_against == "CycloneDX 1.6 JSON schema"


def test_streamed_validation_finds_the_same_component_issues():
    path = DATA / "cyclonedx-1.6-quirks.json"
    streamed = validate_sbom(path, stream_above=0)
    assert "streamed" in streamed.checked_against
    component_issues = {
        i for i in validate_sbom(path).issues if i.path.startswith(("components", "dep"))
    }
    assert component_issues <= set(streamed.issues)


def test_validation_is_bounded():
    path = DATA / "cyclonedx-1.6-quirks.json"
    assert not validate_sbom(path, timeout=0).complete
    capped = validate_sbom(path, max_issues=2)
    assert (len(capped.issues), capped.complete) == (2, False)


def test_spdx_gets_a_structural_report():
    assert validate_sbom(DATA / "spdx-2.3.json").to_dict() == {
        "valid": True,
        "checked_against": "SPDX 2.3 required fields",
        "complete": True,
        "note": "",
        "issues": [],
    }
    broken = {"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}, 3]}
    paths = [(i.path, i.message) for i in validate_sbom(json.dumps(broken).encode()).issues]
    assert ("dataLicense", "required field 'dataLicense' missing") in paths
    assert ("packages[0]", "required field 'SPDXID' missing") in paths
    assert ("packages[1]", "not an object") in paths
    assert validate_sbom(DATA / "spdx-3.0.1.json").valid


def test_xml_and_tag_value_get_no_strict_report_and_garbage_is_an_error():
    report = validate_sbom(DATA / "cyclonedx-1.4.xml")
    assert (report.complete, report.issues) == (False, ())
    with pytest.raises(SbomError):
        validate_sbom(b"{not json")


def test_validation_of_xml_says_it_did_not_check():
    report = validate_sbom(DATA / "cyclonedx-1.4.xml")
    assert not report.checked and not report.complete and not report.valid
    assert report.summary() == (
        "not checked (strict schema checks exist for JSON encodings only, not XML)"
    )


def test_validation_cut_short_says_so():
    report = validate_sbom(DATA / "cyclonedx-1.6-quirks.json", max_issues=2)
    assert not report.complete and len(report.issues) == 2
    assert report.summary() == (
        "2 issues found before the check was cut short (the budget of 2 issues was reached);"
        " the rest unchecked"
    )
    assert report.to_dict()["note"] == "the budget of 2 issues was reached"


def test_validation_of_json_nested_300_deep_is_cut_short_not_raised():
    bom: dict = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}
    level = bom["components"]
    for i in range(300):
        level.append({"type": "library", "name": f"c{i}", "components": []})
        level = level[0]["components"]
    data = json.dumps(bom).encode()
    report = validate_sbom(data)
    assert not report.complete and "nested too deeply" in report.note
    assert "cut short" in report.summary()
