"""CycloneDX XML read into the JSON shape :mod:`.cyclonedx` understands, through defusedxml:
DTDs, entities and external references are refused before anything is expanded."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from .errors import VexError

NAMESPACE = "http://cyclonedx.org/schema/bom/"


def to_bom(data: bytes) -> dict[str, Any]:
    try:
        root = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise VexError(
            "CycloneDX XML: refused: the document declares a DTD (<!DOCTYPE>), which CycloneDX"
            " does not use and which enables entity-expansion and external-entity attacks"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise VexError("CycloneDX XML: refused: the document declares entities") from None
    except defusedxml.ExternalReferenceForbidden:
        raise VexError("CycloneDX XML: refused: the document references external files") from None
    except defusedxml.DefusedXmlException as error:
        raise VexError(f"CycloneDX XML: refused: {error}") from None
    except ParseError as error:
        raise VexError(f"CycloneDX XML: not well-formed XML ({error})") from None
    namespace, _, local = root.tag.removeprefix("{").partition("}")
    if local != "bom" or not namespace.startswith(NAMESPACE):
        raise VexError(f"CycloneDX XML: the root element is {root.tag!r}, not a CycloneDX <bom>")
    x = _Xml("{" + namespace + "}")
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": namespace.removeprefix(NAMESPACE),
        "serialNumber": root.get("serialNumber"),
        "version": root.get("version"),
        "metadata": x.metadata(x.find(root, "metadata")),
        "components": [x.component(c) for c in x.all(root, "components", "component")],
        "services": [x.component(c) for c in x.all(root, "services", "service")],
        "vulnerabilities": [
            x.vulnerability(v) for v in x.all(root, "vulnerabilities", "vulnerability")
        ],
    }
    return _clean(bom)


class _Xml:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    def find(self, element: Element | None, name: str) -> Element | None:
        return None if element is None else element.find(self.ns + name)

    def all(self, element: Element | None, outer: str, inner: str) -> list[Element]:
        holder = self.find(element, outer)
        return [] if holder is None else holder.findall(self.ns + inner)

    def text(self, element: Element | None, name: str) -> str | None:
        child = self.find(element, name)
        return None if child is None or child.text is None else child.text.strip()

    def named(self, element: Element | None) -> dict[str, Any] | None:
        return None if element is None else _clean({"name": self.text(element, "name")})

    def metadata(self, meta: Element | None) -> dict[str, Any] | None:
        if meta is None:
            return None
        component = self.find(meta, "component")
        return _clean(
            {
                "timestamp": self.text(meta, "timestamp"),
                "authors": [self.named(a) for a in self.all(meta, "authors", "author")] or None,
                "manufacturer": self.named(self.find(meta, "manufacturer")),
                "manufacture": self.named(self.find(meta, "manufacture")),
                "supplier": self.named(self.find(meta, "supplier")),
                "component": None if component is None else self.component(component),
            }
        )

    def component(self, element: Element) -> dict[str, Any]:
        return _clean(
            {
                "bom-ref": element.get("bom-ref"),
                "type": element.get("type"),
                "name": self.text(element, "name"),
                "version": self.text(element, "version"),
                "purl": self.text(element, "purl"),
                "cpe": self.text(element, "cpe"),
                "components": [
                    self.component(c) for c in self.all(element, "components", "component")
                ]
                or None,
                "services": [self.component(c) for c in self.all(element, "services", "service")]
                or None,
            }
        )

    def vulnerability(self, element: Element) -> dict[str, Any]:
        analysis = self.find(element, "analysis")
        return _clean(
            {
                "bom-ref": element.get("bom-ref"),
                "id": self.text(element, "id"),
                "references": [
                    _clean({"id": self.text(ref, "id")})
                    for ref in self.all(element, "references", "reference")
                ]
                or None,
                "recommendation": self.text(element, "recommendation"),
                "published": self.text(element, "published"),
                "updated": self.text(element, "updated"),
                "analysis": None if analysis is None else self.analysis(analysis),
                "affects": [self.target(t) for t in self.all(element, "affects", "target")] or None,
            }
        )

    def analysis(self, element: Element) -> dict[str, Any]:
        responses = [r.text.strip() for r in self.all(element, "responses", "response") if r.text]
        return _clean(
            {
                "state": self.text(element, "state"),
                "justification": self.text(element, "justification"),
                "response": responses or None,
                "detail": self.text(element, "detail"),
                "firstIssued": self.text(element, "firstIssued"),
                "lastUpdated": self.text(element, "lastUpdated"),
            }
        )

    def target(self, element: Element) -> dict[str, Any]:
        versions = [
            _clean(
                {
                    "version": self.text(v, "version"),
                    "range": self.text(v, "range"),
                    "status": self.text(v, "status"),
                }
            )
            for v in self.all(element, "versions", "version")
        ]
        return _clean({"ref": self.text(element, "ref"), "versions": versions or None})


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
