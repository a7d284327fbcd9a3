"""Every real VEX document in the shared corpora loads: the CSAF 2.0 examples of category
``csaf_vex`` and the CycloneDX VEX use cases (CISA's included)."""

from __future__ import annotations

import json

import pytest

from clearroom.vulns.vex import VexError, VexFormat, check_minimum, dump_vex, load_vex

pytestmark = pytest.mark.conformance


def test_csaf_vex_examples_load(shared_data):
    loaded = 0
    for path in sorted((shared_data / "csaf" / "csaf_2.0" / "examples").rglob("*.json")):
        body = json.loads(path.read_bytes())
        if not isinstance(body, dict) or body.get("document", {}).get("category") != "csaf_vex":
            continue
        doc = load_vex(path.read_bytes())
        assert doc.format is VexFormat.CSAF
        assert doc.statements, path
        assert doc.warnings == (), (path, doc.warnings)
        assert check_minimum(doc) == [], (path, check_minimum(doc))
        assert load_vex(dump_vex(doc, VexFormat.CSAF)) == doc, path
        loaded += 1
    print(f"CSAF VEX documents loaded: {loaded}")
    assert loaded >= 13


def test_cyclonedx_vex_documents_load(shared_data):
    loaded = statements = not_vex = 0
    for path in sorted((shared_data / "sbom" / "cyclonedx" / "VEX").rglob("*.json")):
        body = json.loads(path.read_bytes())
        analysed = any("analysis" in v for v in body.get("vulnerabilities", []))
        if not analysed:
            with pytest.raises(VexError, match="no vulnerabilities"):
                load_vex(path.read_bytes())
            not_vex += 1
            continue
        doc = load_vex(path.read_bytes())
        assert doc.format is VexFormat.CYCLONEDX
        assert len(doc.statements) == len(body["vulnerabilities"]), path
        assert doc.warnings == (), (path, doc.warnings)
        assert load_vex(dump_vex(doc, VexFormat.CYCLONEDX)) == doc, path
        loaded += 1
        statements += len(doc.statements)
    print(f"CycloneDX VEX documents loaded: {loaded} ({statements} statements); SBOMs: {not_vex}")
    assert loaded >= 25
