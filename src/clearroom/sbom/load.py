"""One entry point for every SBOM format: :func:`load_sbom` looks at the content (never the file
name), picks the parser, and bounds the work.

Why the threshold: ``json.load`` of a 200 MB SBOM builds a tree of several GB of Python
objects; above :data:`STREAM_ABOVE` bytes CycloneDX JSON is streamed item by item instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clearroom.sbom import cyclonedx, spdx, spdx3
from clearroom.sbom.errors import SbomError
from clearroom.sbom.model import Sbom

MAX_BYTES = 1 << 30
"""Default refusal size; a caller accepting uploads should pass its own (smaller) limit."""
STREAM_ABOVE = 16 << 20
"""CycloneDX JSON files larger than this are streamed with ijson."""
_SNIFF = 64 << 10
_WHITESPACE = b"\xef\xbb\xbf \t\r\n"


def load_sbom(
    source: Path | str | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    stream_above: int = STREAM_ABOVE,
) -> Sbom:
    """Parse a CycloneDX (JSON/XML), SPDX 2 (JSON/tag-value) or SPDX 3 (JSON-LD) SBOM.

    ``source`` is a path or the document's bytes. Raises :class:`SbomError` for anything that
    is not a readable SBOM; smaller problems are in the result's ``warnings``.
    """
    if isinstance(source, bytes):
        if len(source) > max_bytes:
            raise SbomError(f"SBOM: {len(source)} bytes is over the {max_bytes} byte limit")
        return _parse_bytes(source)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SbomError(f"SBOM: {path.name} is {size} bytes, over the {max_bytes} byte limit")
        with path.open("rb") as f:
            head = f.read(_SNIFF).lstrip(_WHITESPACE)
        spdx_json = b'"spdxVersion"' in head or b"spdx.org/rdf/3" in head
        if size > stream_above and head.startswith(b"{") and not spdx_json:
            return cyclonedx.stream_json(path)
        if size > stream_above and head.startswith(b"<"):
            with path.open("rb") as f:
                return cyclonedx.parse_xml(f)
        return _parse_bytes(path.read_bytes())
    except OSError as exc:
        raise SbomError(f"SBOM: cannot read {path.name}: {exc.strerror or exc}") from exc


def _parse_bytes(data: bytes) -> Sbom:
    body = data.lstrip(_WHITESPACE)
    if body.startswith((b"{", b"[")):
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise SbomError(f"SBOM: invalid or truncated JSON ({exc})") from exc
        return parse_document(document)
    if body.startswith(b"<"):
        return cyclonedx.parse_xml(data)
    if b"SPDXVersion:" in body[:_SNIFF]:
        return spdx.parse_tag_value(data.decode("utf-8", errors="replace"))
    raise SbomError("SBOM: not a CycloneDX or SPDX document (neither JSON, XML nor tag-value)")


def parse_document(document: Any) -> Sbom:
    """An already-decoded JSON SBOM, of any supported format."""
    if not isinstance(document, dict):
        raise SbomError("SBOM: the JSON document is not an object")
    if document.get("bomFormat") == "CycloneDX":
        return cyclonedx.parse_json(document)
    if "spdxVersion" in document:
        return spdx.parse_json(document)
    context = json.dumps(document.get("@context", ""))
    if "spdx.org/rdf/3" in context or ("@graph" in document and "spdx" in context.lower()):
        return spdx3.parse(document)
    if "bomFormat" in document:
        raise SbomError(f"SBOM: unknown bomFormat {str(document['bomFormat'])[:40]!r}")
    raise SbomError("SBOM: the JSON document is neither CycloneDX nor SPDX")
