"""Which standard document a file is, from its content: CycloneDX and SPDX SBOMs, VEX (CycloneDX,
OpenVEX, CSAF), build provenance (in-toto, DSSE) and test reports (SARIF).

A release directory is a mix of artifacts and documents, and real-world documents are named
``bom.json``, ``vex.json`` or ``sbom.spdx3.json`` as often as ``*.cdx.json``, so names are not
enough. Recognising a format is not validating it: that is the parsers' job (and stays lenient,
since a parser that rejects a real SBOM is wrong). Reads at most :data:`MAX_PARSE_BYTES`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

MAX_PARSE_BYTES = 64 << 20
"""Larger JSON files are classified from their first bytes only."""
SNIFF_BYTES = 64 << 10


class DocumentKind(StrEnum):
    SBOM = "sbom"
    VEX = "vex"
    PROVENANCE = "provenance"
    TEST_REPORT = "test_report"
    ADVISORY = "other"
    """A CSAF security advisory that is not a VEX document."""


def detect(path: Path) -> DocumentKind | None:
    """The kind of standard document ``path`` holds, or None for anything else (an artifact)."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        if path.stat().st_size <= MAX_PARSE_BYTES:
            return _from_json(path)
        return _from_json_prefix(text)
    if text.startswith(b"<"):
        return _from_xml(text)
    if text.startswith((b"SPDXVersion:", b"##")) and b"SPDXVersion:" in text:
        return DocumentKind.SBOM
    return None


def _from_json(path: Path) -> DocumentKind | None:
    try:
        with path.open("rb") as f:
            document = json.load(f)
    except (ValueError, UnicodeDecodeError):
        return _from_json_lines(path)
    return classify(document)


def _from_json_lines(path: Path) -> DocumentKind | None:
    """JSON Lines, as in-toto attestation bundles (``*.intoto.jsonl``)."""
    with path.open("rb") as f:
        first = f.readline(MAX_PARSE_BYTES)
    try:
        return classify(json.loads(first))
    except (ValueError, UnicodeDecodeError):
        return None


def classify(document: Any) -> DocumentKind | None:
    """The kind of a parsed JSON document, by the markers each standard requires."""
    if not isinstance(document, dict):
        return None
    if document.get("bomFormat") == "CycloneDX":
        vulnerabilities = document.get("vulnerabilities") or []
        analysed = any(isinstance(v, dict) and "analysis" in v for v in vulnerabilities)
        return (
            DocumentKind.VEX if analysed and not document.get("components") else DocumentKind.SBOM
        )
    if "spdxVersion" in document:
        return DocumentKind.SBOM
    context = " ".join(_strings(document.get("@context")))
    if "openvex" in context:
        return DocumentKind.VEX
    if "spdx.org/rdf/3" in context:
        return DocumentKind.SBOM
    csaf = document.get("document")
    if isinstance(csaf, dict) and "csaf_version" in csaf:
        return DocumentKind.VEX if csaf.get("category") == "csaf_vex" else DocumentKind.ADVISORY
    if str(document.get("_type", "")).startswith("https://in-toto.io/Statement"):
        return DocumentKind.PROVENANCE
    if "payloadType" in document and "signatures" in document:
        return DocumentKind.PROVENANCE  # a DSSE envelope
    if "sarif" in str(document.get("$schema", "")) or (
        document.get("version") == "2.1.0" and isinstance(document.get("runs"), list)
    ):
        return DocumentKind.TEST_REPORT
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _from_json_prefix(text: bytes) -> DocumentKind | None:
    if b'"bomFormat"' in text and b"CycloneDX" in text:
        return DocumentKind.SBOM
    if b'"spdxVersion"' in text or b"spdx.org/rdf/3" in text:
        return DocumentKind.SBOM
    if b"openvex" in text or b'"csaf_vex"' in text:
        return DocumentKind.VEX
    return None


def _from_xml(text: bytes) -> DocumentKind | None:
    if b"cyclonedx.org/schema/bom" in text:
        return DocumentKind.SBOM
    if b"spdx.org/rdf" in text:
        return DocumentKind.SBOM
    return None
