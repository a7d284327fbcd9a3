"""Recognising standard documents by content: small hand-made cases, then the real corpora."""

from __future__ import annotations

import json

import pytest

from clearroom.sbom import DocumentKind, classify, detect


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "x"}]}, "sbom"),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.4",
                "vulnerabilities": [{"id": "CVE-1", "analysis": {}}],
            },
            "vex",
        ),
        ({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}, "sbom"),
        ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}, "sbom"),
        ({"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}, "vex"),
        ({"document": {"csaf_version": "2.0", "category": "csaf_vex"}}, "vex"),
        ({"document": {"csaf_version": "2.0", "category": "csaf_security_advisory"}}, "other"),
        (
            {
                "_type": "https://in-toto.io/Statement/v1",
                "predicateType": "https://slsa.dev/provenance/v1",
            },
            "provenance",
        ),
        (
            {"payloadType": "application/vnd.in-toto+json", "payload": "", "signatures": []},
            "provenance",
        ),
        ({"version": "2.1.0", "runs": []}, "test_report"),
        ({"name": "package.json"}, None),
        ([1, 2, 3], None),
    ],
)
def test_classify(document, kind):
    assert classify(document) == (DocumentKind(kind) if kind else None)


def test_detect_reads_files_of_every_shape(tmp_path):
    cases = {
        "fw.img": (b"\x7fELF\x02\x01" + bytes(100), None),
        "broken.json": (b'{"bomFormat": "CycloneDX", ', None),
        "attestations.intoto.jsonl": (
            b'{"payloadType": "application/vnd.in-toto+json", "payload": "", "signatures": []}\n{}\n',
            "provenance",
        ),
        "bom.xml": (
            b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5">',
            "sbom",
        ),
        "sbom.spdx": (b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", "sbom"),
        "empty": (b"", None),
    }
    for name, (data, kind) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert detect(tmp_path / name) == (DocumentKind(kind) if kind else None), name


@pytest.mark.conformance
class TestRealDocuments:
    """Every SBOM and VEX document of the shared corpora is recognised as what it is."""

    def test_cyclonedx_and_spdx_sboms(self, shared_data):
        sboms = [
            p
            for p in (shared_data / "sbom").rglob("*")
            if p.is_file()
            and (p.name.startswith("bom") or ".spdx" in p.name)
            and p.suffix in {".json", ".xml", ".spdx"}
            and "VEX" not in p.parts
        ]
        assert len(sboms) > 30
        wrong = {
            str(p.relative_to(shared_data)): detect(p)
            for p in sboms
            if detect(p) is not DocumentKind.SBOM
        }
        assert wrong == {}

    def test_cyclonedx_vex(self, shared_data):
        vex = list((shared_data / "sbom").rglob("vex*.json"))
        assert len(vex) >= 20
        wrong = {
            str(p.relative_to(shared_data)): detect(p)
            for p in vex
            if detect(p) is not DocumentKind.VEX
        }
        assert wrong == {}

    def test_csaf_advisories_and_vex(self, shared_data):
        examples = shared_data / "csaf" / "csaf_2.0" / "examples" / "csaf"
        for path in examples.rglob("*.json"):
            category = json.loads(path.read_text())["document"]["category"]
            expected = DocumentKind.VEX if category == "csaf_vex" else DocumentKind.ADVISORY
            assert detect(path) is expected, path.name
