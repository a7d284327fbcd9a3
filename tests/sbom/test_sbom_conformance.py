"""Every real CycloneDX and SPDX document of the shared corpus loads, leniently and in full."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearroom.sbom import DocumentKind, assess, detect, load_sbom, validate_sbom

pytestmark = pytest.mark.conformance


def _documents(shared_data: Path) -> list[Path]:
    return sorted(
        p
        for p in (shared_data / "sbom").rglob("*")
        if p.is_file() and detect(p) in (DocumentKind.SBOM, DocumentKind.VEX)
    )


def _listed_components(path: Path) -> int:
    """How many components or packages the raw document lists (None of the parsers' code)."""
    raw = path.read_bytes()
    if path.suffix == ".xml":
        return raw.count(b"<component ")
    if path.suffix == ".spdx":
        return raw.count(b"\nPackageName:")
    document = json.loads(raw)
    if "@graph" in document:
        return sum(1 for e in document["@graph"] if str(e.get("type", "")).endswith("Package"))
    return len(document.get("components") or document.get("packages") or [])


def test_every_sbom_and_vex_document_loads(shared_data):
    documents = _documents(shared_data)
    assert len(documents) >= 100
    for path in documents:
        sbom = load_sbom(path)
        listed = _listed_components(path)
        found = len(sbom.components) + (sbom.subject is not None)  # the subject is apart
        if listed:
            assert found >= 1, path
        if path.suffix != ".spdx" and "@graph" not in path.read_text()[:4096]:
            assert found >= listed, path  # nested CycloneDX components count once each
        assert sbom.format == ("spdx" if "spdx" in path.parts else "cyclonedx"), path
        report = assess(sbom).to_dict()
        json.dumps(report)


def test_juice_shop_json_and_xml_list_the_same_purls(shared_data):
    folder = shared_data / "sbom" / "cyclonedx" / "SBOM" / "juice-shop" / "v11.1.2"
    from_json, from_xml = load_sbom(folder / "bom.json"), load_sbom(folder / "bom.xml")
    purls = {c.purl for c in from_json.components}
    assert len(purls) > 800 and None not in purls
    assert purls == {c.purl for c in from_xml.components}
    assert from_json.subject == from_xml.subject


def test_spdx_2_and_3_editions_of_an_example_agree(shared_data):
    example = shared_data / "sbom" / "spdx" / "software" / "example9"
    spdx2 = load_sbom(example / "spdx2.2" / "appbomination.spdx.json")
    spdx3 = load_sbom(example / "spdx3.0" / "appbomination.spdx3.json")
    assert {(c.name, c.version) for c in spdx2.components} == {
        (c.name, c.version) for c in spdx3.components
    }


def test_cyclonedx_json_documents_validate_against_the_official_schemas(shared_data):
    for path in (shared_data / "sbom" / "cyclonedx").rglob("*.json"):
        report = validate_sbom(path)
        assert report.complete and report.issues == (), (path, report.issues[:3])
