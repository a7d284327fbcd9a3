"""SBOMs and the documents that travel with them (no Django). Today: recognising standard
document formats from their content; CycloneDX/SPDX parsing and quality scoring come next.

    from clearroom.sbom import DocumentKind, classify

    cyclonedx = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}
    assert classify(cyclonedx) is DocumentKind.SBOM
    # detect(path) does the same for a file, reading at most MAX_PARSE_BYTES
"""

from clearroom.sbom.formats import DocumentKind, classify, detect

__all__ = ["DocumentKind", "classify", "detect"]
