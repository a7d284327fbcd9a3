"""VEX: OpenVEX, CSAF 2.0 (``csaf_vex``) and CycloneDX read into one model and written back.

>>> from clearroom.vulns.vex import load_vex, dump_vex, check_minimum, VexFormat
>>> doc = load_vex(b'''{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
...   "author": "Example PSIRT", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
...   "statements": [{"vulnerability": {"name": "CVE-2021-44228"},
...     "products": [{"@id": "pkg:maven/com.example/app@1.0"}],
...     "status": "not_affected", "justification": "component_not_present"}]}''')
>>> doc.statements[0].status, check_minimum(doc)
(<Status.NOT_AFFECTED: 'not_affected'>, [])
>>> load_vex(dump_vex(doc, VexFormat.CYCLONEDX)).statements[0].justification
<Justification.COMPONENT_NOT_PRESENT: 'component_not_present'>
"""

from __future__ import annotations

import json
from typing import Any

from . import csaf, cyclonedx, cyclonedx_xml, openvex
from ._internal import parse_json
from .checks import check_minimum
from .errors import VexError
from .model import (
    MAX_STATEMENTS,
    MAX_VEX_BYTES,
    Justification,
    ProductRef,
    Status,
    VexDocument,
    VexFormat,
    VexStatement,
)
from .resolve import Resolution, applies_to, resolve

__all__ = [
    "MAX_VEX_BYTES",
    "Justification",
    "ProductRef",
    "Resolution",
    "Status",
    "VexDocument",
    "VexError",
    "VexFormat",
    "VexStatement",
    "applies_to",
    "check_minimum",
    "detect_format",
    "dump_vex",
    "load_vex",
    "resolve",
]


def detect_format(document: Any) -> VexFormat | None:
    """The VEX format of a parsed JSON document, by the marker each one requires."""
    if not isinstance(document, dict):
        return None
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(c, str) and "openvex" in c for c in contexts):
        return VexFormat.OPENVEX
    if document.get("bomFormat") == "CycloneDX":
        return VexFormat.CYCLONEDX
    meta = document.get("document")
    if isinstance(meta, dict) and "csaf_version" in meta:
        return VexFormat.CSAF
    return None


def load_vex(data: bytes, *, max_bytes: int = MAX_VEX_BYTES) -> VexDocument:
    """Read an OpenVEX, CSAF or CycloneDX (JSON or XML) document; raises :class:`VexError`."""
    if len(data) > max_bytes:
        raise VexError(f"VEX: the document is {len(data)} bytes; the limit is {max_bytes}")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        doc = cyclonedx.parse(cyclonedx_xml.to_bom(data))
    else:
        document = parse_json(data.removeprefix(b"\xef\xbb\xbf"))
        fmt = detect_format(document)
        if fmt is VexFormat.OPENVEX:
            doc = openvex.parse(document)
        elif fmt is VexFormat.CSAF:
            doc = csaf.parse(document)
        elif fmt is VexFormat.CYCLONEDX:
            doc = cyclonedx.parse(document)
        else:
            raise VexError(
                "VEX: not a VEX document: expected OpenVEX (an @context at openvex.dev),"
                " CSAF 2.0 (document.csaf_version) or CycloneDX (bomFormat)"
            )
    count = sum(len(s.products) or 1 for s in doc.statements)
    if count > MAX_STATEMENTS:
        raise VexError(f"VEX: {count} product statements; the limit is {MAX_STATEMENTS}")
    return doc


def dump_vex(doc: VexDocument, fmt: VexFormat, **options: str) -> bytes:
    """``doc`` written as ``fmt`` (JSON). CSAF takes ``namespace`` (the publisher's URL),
    ``canonical_url``, ``lang`` and ``tlp`` (see :func:`.csaf.dump`); its keys are sorted, as
    CSAF 6.2.13 asks."""
    body: dict[str, Any]
    if fmt is VexFormat.OPENVEX:
        body = openvex.dump(doc)
    elif fmt is VexFormat.CSAF:
        body = csaf.dump(doc, **options)
    else:
        body = cyclonedx.dump(doc)
    ordered = fmt is VexFormat.CSAF
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=ordered).encode() + b"\n"
