"""CycloneDX 1.0-1.7, JSON and XML, into :class:`~clearroom.sbom.model.Sbom`.

Why one builder for both encodings: XML elements are first turned into the JSON shape, so every
quirk is handled once. Large JSON files are streamed with ijson item by item (see
:func:`stream_json`) so memory follows the model, not the document tree. XML is read with
defusedxml: entity declarations and DTDs (billion laughs, external entities) are refused.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree
import ijson

from clearroom.sbom._common import (
    Warnings,
    as_list,
    checked_purl,
    hash_algorithm,
    shared,
    text,
    timestamp,
    unique_ref,
)
from clearroom.sbom.errors import SbomError
from clearroom.sbom.model import Component, Sbom

KNOWN_VERSIONS = frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"})
MAX_NESTING = 32
"""Nested ``components`` deeper than this are ignored (with a warning)."""
_XML_NS = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d+\.\d+)\}bom$")


class _Builder:
    """Accumulates one document's components and dependencies, then freezes them."""

    def __init__(self, spec_version: str) -> None:
        self.warnings = Warnings()
        self.spec_version = spec_version
        if spec_version not in KNOWN_VERSIONS:
            self.warnings.add(f"unknown CycloneDX specVersion {spec_version[:20]!r}")
        self.seen: set[str] = set()
        self.components: list[Component] = []
        self.dependencies: dict[str, list[str]] = {}
        self.subject: Component | None = None
        self.metadata: dict[str, Any] = {}
        self.serial: str | None = None
        self.vulnerabilities = 0

    def add_component(
        self, data: Any, where: str, parent: str | None = None, depth: int = 0
    ) -> None:
        component = self._component(data, where)
        if component is None:
            return
        self.components.append(component)
        if parent is not None:
            self._edge(parent, component.ref)
        self._nested(data, where, component.ref, depth)

    def _nested(self, data: dict[str, Any], where: str, ref: str, depth: int) -> None:
        nested = as_list(data.get("components"))
        if nested and depth >= MAX_NESTING:
            self.warnings.add(f"components nested deeper than {MAX_NESTING} ignored")
            return
        for index, child in enumerate(nested):
            self.add_component(child, f"{where}.components[{index}]", ref, depth + 1)

    def set_metadata(self, metadata: Any) -> None:
        if not isinstance(metadata, dict):
            if metadata is not None:
                self.warnings.add("metadata is not an object")
            return
        self.metadata = metadata
        subject = metadata.get("component")
        if subject is not None:
            self.subject = self._component(subject, "metadata.component")
            if self.subject is not None:
                self._nested(subject, "metadata.component", self.subject.ref, 0)

    def add_dependency(self, data: Any) -> None:
        if not isinstance(data, dict) or not text(data.get("ref")):
            self.warnings.add("dependency without a ref ignored")
            return
        ref = str(data["ref"]).strip()
        targets = self.dependencies.setdefault(ref, [])
        for key in ("dependsOn", "provides"):
            for target in as_list(data.get(key)):
                name = target if isinstance(target, str) else None
                if name and name not in targets:
                    targets.append(name)

    def _edge(self, parent: str, child: str) -> None:
        targets = self.dependencies.setdefault(parent, [])
        if child not in targets:
            targets.append(child)

    def _component(self, data: Any, where: str) -> Component | None:
        if not isinstance(data, dict):
            self.warnings.add(f"{where}: component is not an object, ignored")
            return None
        name = text(data.get("name"))
        if name is None:
            self.warnings.add(f"{where}: component without a name")
            name = ""
        version, group = text(data.get("version")), text(data.get("group"))
        purl = checked_purl(data.get("purl"), where, self.warnings)
        fallback = purl or "/".join(filter(None, [group, name])) + (
            f"@{version}" if version else ""
        )
        ref = unique_ref(text(data.get("bom-ref")), fallback or where, self.seen, self.warnings)
        swid = data.get("swid")
        return Component(
            ref=ref,
            name=name,
            version=version,
            group=group,
            purl=ref if purl == ref else purl,
            cpes=tuple(filter(None, [text(data.get("cpe"))])),
            hashes=self._hashes(data.get("hashes"), where),
            licences=tuple(map(sys.intern, _licences(data.get("licenses")))),
            supplier=shared(_supplier(data)),
            type=shared(text(data.get("type"))),
            scope=shared(text(data.get("scope"))),
            filename=_property(data, ":filename"),
            swid=text(swid.get("tagId")) if isinstance(swid, dict) else None,
        )

    def _hashes(self, value: Any, where: str) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for item in as_list(value):
            alg = text(item.get("alg")) if isinstance(item, dict) else None
            content = text(item.get("content")) if isinstance(item, dict) else None
            if alg and content:
                hashes[hash_algorithm(alg)] = content.lower()
            else:
                self.warnings.add(f"{where}: hash without alg or content ignored")
        return hashes

    def _frozen_dependencies(self) -> dict[str, tuple[str, ...]]:
        """The edges, re-using the components' ref strings (large SBOMs repeat each ref)."""
        canonical = {c.ref: c.ref for c in self.components}
        return {
            canonical.get(ref, ref): tuple(canonical.get(t, t) for t in targets)
            for ref, targets in self.dependencies.items()
        }

    def finish(self) -> Sbom:
        metadata = self.metadata
        authors = [_party_name(a) for a in as_list(metadata.get("authors"))]
        for key in ("manufacturer", "manufacture", "supplier"):
            if not any(authors) and isinstance(metadata.get(key), dict):
                authors.append(_party_name(metadata[key]))
        return Sbom(
            format="cyclonedx",
            spec_version=self.spec_version,
            serial=self.serial,
            created=timestamp(metadata.get("timestamp"), "metadata.timestamp", self.warnings),
            authors=tuple(a for a in authors if a),
            tools=_tools(metadata.get("tools")),
            subject=self.subject,
            components=tuple(self.components),
            dependencies=self._frozen_dependencies(),
            warnings=self.warnings.result(),
            vulnerabilities=self.vulnerabilities,
        )


def _licences(value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for item in as_list(value):
        if not isinstance(item, dict):
            continue
        licence = item.get("license")
        if isinstance(licence, dict):
            name = text(licence.get("id")) or text(licence.get("name"))
        else:
            name = text(item.get("expression"))
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _party_name(party: Any) -> str | None:
    if isinstance(party, str):
        return text(party)
    if isinstance(party, dict):
        return text(party.get("name")) or text(party.get("email")) or _first(party.get("url"))
    return None


def _first(value: Any) -> str | None:
    return next((text(v) for v in as_list(value) if text(v)), None)


def _supplier(data: dict[str, Any]) -> str | None:
    for key in ("supplier", "manufacturer"):
        name = _party_name(data.get(key))
        if name:
            return name
    authors = [_party_name(a) for a in as_list(data.get("authors"))]
    return (
        next(filter(None, authors), None) or text(data.get("author")) or text(data.get("publisher"))
    )


def _property(data: dict[str, Any], suffix: str) -> str | None:
    for prop in as_list(data.get("properties")):
        if isinstance(prop, dict) and str(prop.get("name", "")).lower().endswith(suffix):
            return text(prop.get("value"))
    return None


def _tools(value: Any) -> tuple[str, ...]:
    tools: list[Any] = []
    if isinstance(value, dict):  # 1.5+: {"components": [...], "services": [...]}
        tools = as_list(value.get("components")) + as_list(value.get("services"))
    else:
        tools = as_list(value)
    names = []
    for tool in tools:
        if isinstance(tool, dict):
            parts = [text(tool.get(k)) for k in ("vendor", "group", "name", "version")]
            label = " ".join(p for p in parts if p)
            if label:
                names.append(label)
    return tuple(names)


# -- JSON -------------------------------------------------------------------------------------


def parse_json(document: dict[str, Any]) -> Sbom:
    """A CycloneDX document already decoded from JSON."""
    builder = _Builder(text(document.get("specVersion")) or "")
    if not builder.spec_version:
        builder.warnings.add("specVersion missing")
    builder.serial = text(document.get("serialNumber"))
    builder.set_metadata(document.get("metadata"))
    for index, component in enumerate(as_list(document.get("components"))):
        builder.add_component(component, f"components[{index}]")
    for dependency in as_list(document.get("dependencies")):
        builder.add_dependency(dependency)
    builder.vulnerabilities = len(as_list(document.get("vulnerabilities")))
    return builder.finish()


def stream_json(path: Path) -> Sbom:
    """A large CycloneDX JSON file, read in a few streaming passes without building its tree."""
    try:
        head = read_head(path)
        if head.get("bomFormat") != "CycloneDX":
            raise SbomError("SBOM: not a CycloneDX JSON document (no bomFormat)")
        builder = _Builder(text(head.get("specVersion")) or "")
        builder.serial = text(head.get("serialNumber"))
        builder.set_metadata(head.get("metadata"))
        for index, component in enumerate(_items(path, "components.item")):
            builder.add_component(component, f"components[{index}]")
        for dependency in _items(path, "dependencies.item"):
            builder.add_dependency(dependency)
        builder.vulnerabilities = sum(1 for _ in _items(path, "vulnerabilities.item"))
    except ijson.JSONError as exc:
        raise SbomError(f"SBOM: invalid or truncated JSON ({exc})") from exc
    return builder.finish()


_HEAD_KEYS = ("bomFormat", "specVersion", "serialNumber", "metadata")


def read_head(path: Path) -> dict[str, Any]:
    """Top-level scalars and metadata: read from the start until the first big array, then,
    only for keys not seen yet, one more pass each (documents rarely put them at the end)."""
    head: dict[str, Any] = {}
    with path.open("rb") as f:
        events = ijson.parse(f, use_float=True)
        builder: Any = None
        for prefix, event, value in events:
            if builder is not None:
                builder.event(event, value)
                if prefix == "metadata" and event == "end_map":
                    head["metadata"], builder = builder.value, None
            elif prefix in _HEAD_KEYS[:3] and event in ("string", "number"):
                head[prefix] = value
            elif prefix == "metadata" and event == "start_map":
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
            elif event == "start_array" and "." not in prefix and prefix:
                break
    for key in _HEAD_KEYS:
        if key not in head:
            found = next(_items(path, key), None)
            if found is not None:
                head[key] = found
    return head


def _items(path: Path, prefix: str) -> Iterator[Any]:
    with path.open("rb") as f:
        yield from ijson.items(f, prefix, use_float=True)


# -- XML --------------------------------------------------------------------------------------


def parse_xml(data: bytes | IO[bytes]) -> Sbom:
    """A CycloneDX XML document; DTDs and entities are refused before anything is expanded."""
    try:
        if isinstance(data, bytes):
            root = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
        else:
            root = defusedxml.ElementTree.parse(data, forbid_dtd=True).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise SbomError(
            f"SBOM: XML with a DTD or entity declarations refused ({type(exc).__name__}); "
            "CycloneDX needs neither, and they enable billion-laughs and external-entity attacks"
        ) from exc
    except ParseError as exc:
        raise SbomError(f"SBOM: invalid or truncated XML ({exc})") from exc
    match = _XML_NS.match(root.tag)
    if not match:
        raise SbomError(f"SBOM: XML root {root.tag[:100]!r} is not a CycloneDX bom")
    builder = _Builder(match.group(1))
    builder.serial = text(root.get("serialNumber"))
    for child in root:
        tag = _local(child.tag)
        if tag == "metadata":
            builder.set_metadata(_xml_metadata(child))
        elif tag == "components":
            for index, element in enumerate(_children(child, "component")):
                builder.add_component(_xml_component(element), f"components[{index}]")
        elif tag == "dependencies":
            for element in _children(child, "dependency"):
                builder.add_dependency(_xml_dependency(element))
        elif tag == "vulnerabilities":
            builder.vulnerabilities = len(list(_children(child, "vulnerability")))
    return builder.finish()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, tag: str) -> Iterator[Element]:
    return (child for child in element if _local(child.tag) == tag)


def _child(element: Element, tag: str) -> Element | None:
    return next(_children(element, tag), None)


def _xml_text(element: Element, tag: str) -> str | None:
    child = _child(element, tag)
    return text(child.text) if child is not None else None


def _xml_party(element: Element | None) -> dict[str, Any] | None:
    if element is None:
        return None
    return {
        "name": _xml_text(element, "name"),
        "email": _xml_text(element, "email"),
        "url": [text(u.text) for u in _children(element, "url")],
    }


def _xml_component(element: Element, depth: int = 0) -> dict[str, Any]:
    """One ``<component>`` in the JSON shape. Nested components are converted down to
    :data:`MAX_NESTING` levels only: deeper ones are kept as bare elements, which the builder
    ignores with the JSON reader's warning (a recursion per level would otherwise end in a
    ``RecursionError`` a few hundred levels down)."""
    data: dict[str, Any] = {"type": element.get("type"), "bom-ref": element.get("bom-ref")}
    for field in ("name", "version", "group", "purl", "cpe", "scope", "author", "publisher"):
        data[field] = _xml_text(element, field)
    data["supplier"] = _xml_party(_child(element, "supplier"))
    data["manufacturer"] = _xml_party(_child(element, "manufacturer"))
    authors = _child(element, "authors")
    if authors is not None:
        data["authors"] = [_xml_party(a) for a in _children(authors, "author")]
    hashes = _child(element, "hashes")
    if hashes is not None:
        data["hashes"] = [{"alg": h.get("alg"), "content": h.text} for h in hashes]
    licenses = _child(element, "licenses")
    if licenses is not None:
        data["licenses"] = _xml_licences(licenses)
    swid = _child(element, "swid")
    if swid is not None:
        data["swid"] = {"tagId": swid.get("tagId")}
    properties = _child(element, "properties")
    if properties is not None:
        data["properties"] = [{"name": p.get("name"), "value": p.text} for p in properties]
    nested = _child(element, "components")
    if nested is not None:
        children = list(_children(nested, "component"))
        data["components"] = (
            [_xml_component(c, depth + 1) for c in children] if depth < MAX_NESTING else children
        )
    return data


def _xml_licences(element: Element) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in element:
        if _local(item.tag) == "expression":
            found.append({"expression": item.text})
        elif _local(item.tag) == "license":
            found.append(
                {"license": {"id": _xml_text(item, "id"), "name": _xml_text(item, "name")}}
            )
    return found


def _xml_metadata(element: Element) -> dict[str, Any]:
    data: dict[str, Any] = {"timestamp": _xml_text(element, "timestamp")}
    tools = _child(element, "tools")
    if tools is not None:
        listed = [{k: _xml_text(t, k) for k in ("vendor", "name", "version")} for t in tools]
        data["tools"] = [t for t, e in zip(listed, tools, strict=True) if _local(e.tag) == "tool"]
        for kind in ("components", "services"):
            group = _child(tools, kind)
            if group is not None:
                data["tools"] += [
                    {k: _xml_text(t, k) for k in ("group", "name", "version")} for t in group
                ]
    authors = _child(element, "authors")
    if authors is not None:
        data["authors"] = [_xml_party(a) for a in _children(authors, "author")]
    for key in ("manufacturer", "manufacture", "supplier"):
        data[key] = _xml_party(_child(element, key))
    component = _child(element, "component")
    if component is not None:
        data["component"] = _xml_component(component)
    return data


def _xml_dependency(element: Element) -> dict[str, Any]:
    return {
        "ref": element.get("ref"),
        "dependsOn": [d.get("ref") for d in _children(element, "dependency")],
        "provides": [d.get("ref") for d in _children(element, "provides")],
    }
