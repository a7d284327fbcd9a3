"""SBOMs and the documents that travel with them (no Django): recognising standard documents by
content, parsing CycloneDX and SPDX into one model, scoring completeness, strict validation.

    from clearroom.sbom import DocumentKind, classify, load_sbom, assess

    cyclonedx = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}
    assert classify(cyclonedx) is DocumentKind.SBOM
    # detect(path) does the same for a file, reading at most MAX_PARSE_BYTES

    sbom = load_sbom(b'{"bomFormat": "CycloneDX", "specVersion": "1.6", '
                     b'"components": [{"name": "left-pad", "version": "1.3.0"}]}')
    assert [c.name for c in sbom.components] == ["left-pad"]
    assert assess(sbom).ntia.components[sbom.components[0].ref] == (
        "supplier", "unique-id", "dependencies")
"""

from clearroom.sbom.errors import SbomError
from clearroom.sbom.formats import DocumentKind, classify, detect
from clearroom.sbom.load import load_sbom
from clearroom.sbom.model import Component, Sbom
from clearroom.sbom.quality import QualityReport, StandardReport, assess
from clearroom.sbom.validate import Issue, ValidationReport, validate_sbom

__all__ = [
    "Component",
    "DocumentKind",
    "Issue",
    "QualityReport",
    "Sbom",
    "SbomError",
    "StandardReport",
    "ValidationReport",
    "assess",
    "classify",
    "detect",
    "load_sbom",
    "validate_sbom",
]
