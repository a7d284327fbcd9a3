"""Completeness against NTIA minimum elements and BSI TR-03183-2: exact findings on crafted SBOMs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from clearroom.sbom import Component, Sbom, assess


def _crafted() -> Sbom:
    complete = Component(
        ref="app",
        name="app",
        version="1.0",
        purl="pkg:generic/app@1.0",
        hashes={"sha512": "00"},
        licences=("MIT",),
        supplier="ACME",
        filename="app-1.0.tar.gz",
    )
    bare = Component(ref="bare", name="bare")
    half = Component(
        ref="half", name="half", version="2", cpes=("cpe:2.3:a:x:half:2",), hashes={"sha256": "11"}
    )
    return Sbom(
        format="cyclonedx",
        spec_version="1.5",
        created=datetime(2024, 1, 1, tzinfo=UTC),
        tools=("cdxgen",),
        subject=complete,
        components=(bare, half),
        dependencies={"app": ("half",)},
        vulnerabilities=2,
    )


def test_ntia_findings_are_exact():
    ntia = assess(_crafted()).ntia
    assert ntia.document == (
        "author: only tools are named, not the person or organisation responsible",
    )
    assert dict(ntia.components) == {
        "bare": ("supplier", "version", "unique-id", "dependencies"),
        "half": ("supplier",),
    }
    assert ntia.elements == {
        "author": 0.0,
        "timestamp": 100.0,
        "supplier": 33.3,
        "name": 100.0,
        "version": 66.7,
        "unique-id": 66.7,
        "dependencies": 66.7,
    }
    assert ntia.score == round((0 + 100 + 33.3 + 100 + 66.7 * 3) / 7, 1)


def test_bsi_findings_are_exact():
    bsi = assess(_crafted()).bsi
    assert bsi.document == (
        "creator: only tools are named, not the person or organisation responsible",
        "spec-version: CycloneDX 1.5 is older than the required 1.6",
        "no-vulnerabilities: the SBOM carries 2 vulnerability entries;"
        " BSI wants them in a separate VEX/CSAF document",
    )
    assert dict(bsi.components) == {
        "bare": (
            "component-creator",
            "version",
            "filename",
            "dependencies",
            "licence",
            "sha512",
            "unique-id",
        ),
        "half": ("component-creator", "filename", "licence", "sha512"),
    }
    assert bsi.elements["timestamp"] == 100.0 and bsi.elements["sha512"] == 33.3


def test_a_complete_sbom_scores_100():
    crafted = _crafted()
    sbom = Sbom(
        format="spdx",
        spec_version="3.0.1",
        created=crafted.created,
        authors=("ACME PSIRT",),
        subject=crafted.subject,
        dependencies={"app": ("app",)},
    )
    report = assess(sbom)
    assert (report.ntia.score, report.bsi.score) == (100.0, 100.0)
    assert report.ntia.document == report.bsi.document == ()
    assert dict(report.bsi.components) == {}


def test_an_empty_sbom_says_so_and_the_report_is_json():
    report = assess(Sbom(format="spdx", spec_version="2.3"))
    assert "components: the SBOM lists no components" in report.ntia.document
    assert "spec-version: SPDX 2.3 is older than the required 3.0.1" in report.bsi.document
    assert "timestamp: the SBOM does not say when it was made" in report.bsi.document
    assert report.ntia.score == 0.0
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {"ntia", "bsi"}
    assert set(data["bsi"]) == {"standard", "score", "elements", "document", "components"}
