"""SPDX 3.0 JSON-LD (``@graph`` serialisation) into :class:`~clearroom.sbom.model.Sbom`.

Why a graph walk rather than a JSON-LD processor: documents use the fixed SPDX context, so
compact names (``software_Package``, ``relationshipType``) can be read directly, and no
context is ever fetched from the network. Licences are relationships in SPDX 3
(``hasDeclaredLicense`` / ``hasConcludedLicense``) and are folded back onto the package.
Any element whose type ends in ``Package`` (software, AI, dataset) is a component.
"""

from __future__ import annotations

from typing import Any

from clearroom.sbom._common import (
    Warnings,
    as_list,
    checked_purl,
    hash_algorithm,
    text,
    timestamp,
    unique_ref,
)
from clearroom.sbom.model import Component, Sbom

FORWARD = frozenset(
    {
        "dependsOn",
        "contains",
        "hasStaticLink",
        "hasDynamicLink",
        "hasPrerequisite",
        "hasOptionalDependency",
        "hasProvidedDependency",
        "ancestorOf",
    }
)
"""``from <type> to``: ``from`` needs or holds ``to`` (SPDX 3 has no inverse types)."""
LICENCE_TYPES = frozenset({"hasDeclaredLicense", "hasConcludedLicense"})
_NO_LICENCE = ("NoAssertionLicense", "NoneLicense")
_PURPOSE_TYPES = {"ai_AIPackage": "machine-learning-model", "dataset_DatasetPackage": "data"}


def _id(element: Any) -> str | None:
    if isinstance(element, str):
        return element
    if isinstance(element, dict):
        return text(element.get("spdxId")) or text(element.get("@id"))
    return None


def _type(element: dict[str, Any]) -> str:
    return str(element.get("type") or element.get("@type") or "")


def parse(document: dict[str, Any]) -> Sbom:
    """A decoded SPDX 3 JSON-LD document."""
    warnings = Warnings()
    graph = [e for e in as_list(document.get("@graph")) if isinstance(e, dict)]
    if not graph and "@graph" not in document:
        graph = [document]  # a single top-level element
    by_id: dict[str, dict[str, Any]] = {}
    for element in graph:
        element_id = _id(element)
        if element_id:
            by_id.setdefault(element_id, element)
        info = element.get("creationInfo")
        if isinstance(info, dict) and _id(info):  # an inline CreationInfo with a blank-node id
            by_id.setdefault(str(_id(info)), info)

    def name_of(ref: Any) -> str | None:
        target = by_id.get(ref, {}) if isinstance(ref, str) else ref
        return text(target.get("name")) if isinstance(target, dict) else text(ref)

    licences: dict[str, list[str]] = {}
    edges: dict[str, list[str]] = {}
    roots: list[str] = []
    vulnerabilities = 0
    for element in graph:
        kind = _type(element)
        if kind.startswith("security_") and "Vuln" in kind:
            vulnerabilities += 1
        if kind in ("software_Sbom", "SpdxDocument"):
            roots += [r for r in map(_id, as_list(element.get("rootElement"))) if r]
        if not kind.endswith("Relationship"):
            continue
        relation, source = str(element.get("relationshipType", "")), _id(element.get("from"))
        targets = [t for t in map(_id, as_list(element.get("to"))) if t]
        if source is None:
            continue
        if relation in LICENCE_TYPES:
            for target in targets:
                licence = _licence(by_id.get(target), target)
                if licence:
                    licences.setdefault(source, []).append(licence)
        elif relation in FORWARD:
            edges.setdefault(source, []).extend(targets)
        elif relation == "describes":
            roots += targets

    seen: set[str] = set()
    components = [
        _package(e, f"@graph[{i}]", licences, name_of, seen, warnings)
        for i, e in enumerate(graph)
        if _type(e).endswith("Package")
    ]
    by_ref = {c.ref: c for c in components}
    subject = next((by_ref[r] for r in roots if r in by_ref), None)
    infos = [e for e in by_id.values() if _type(e) == "CreationInfo"]
    info = infos[0] if infos else {}
    version = text(info.get("specVersion")) or ""
    if not version.startswith("3."):
        warnings.add(f"SPDX 3 specVersion {version[:20]!r} unexpected")
    spdx_document = next((e for e in graph if _type(e) == "SpdxDocument"), {})
    return Sbom(
        format="spdx",
        spec_version=version or "3.0",
        serial=_id(spdx_document),
        created=timestamp(info.get("created"), "CreationInfo.created", warnings),
        authors=tuple(filter(None, map(name_of, as_list(info.get("createdBy"))))),
        tools=tuple(filter(None, map(name_of, as_list(info.get("createdUsing"))))),
        subject=subject,
        components=tuple(c for c in components if c is not subject),
        dependencies={
            parent: tuple(dict.fromkeys(c for c in children if c in by_ref))
            for parent, children in edges.items()
            if parent in by_ref and any(c in by_ref for c in children)
        },
        warnings=warnings.result(),
        vulnerabilities=vulnerabilities,
    )


def _licence(element: dict[str, Any] | None, ref: str) -> str | None:
    value = _licence_name(element, ref)
    if value is None or value.upper() in ("NOASSERTION", "NONE") or value.endswith(_NO_LICENCE):
        return None
    return value


def _licence_name(element: dict[str, Any] | None, ref: str) -> str | None:
    if element is None:  # a listed licence by IRI: https://spdx.org/licenses/MIT
        return ref.rsplit("/", 1)[-1] if ref.startswith("http") else None
    for key in ("simplelicensing_licenseExpression", "spdxId", "name"):
        if key == "spdxId" and "ListedLicense" not in _type(element):
            continue
        value = text(element.get(key))
        if value:
            return value.rsplit("/", 1)[-1] if key == "spdxId" else value
    return None


def _package(
    element: dict[str, Any],
    where: str,
    licences: dict[str, list[str]],
    name_of: Any,
    seen: set[str],
    warnings: Warnings,
) -> Component:
    element_id = _id(element)
    purl = checked_purl(element.get("software_packageUrl"), where, warnings)
    cpes, swid = [], None
    for identifier in as_list(element.get("externalIdentifier")):
        if not isinstance(identifier, dict):
            continue
        kind, value = identifier.get("externalIdentifierType"), text(identifier.get("identifier"))
        if kind == "packageUrl" and purl is None:
            purl = checked_purl(value, where, warnings)
        elif kind in ("cpe23", "cpe22") and value:
            cpes.append(value)
        elif kind == "swid" and value:
            swid = value
    hashes = {}
    for check in as_list(element.get("verifiedUsing")):
        if isinstance(check, dict) and _type(check) == "Hash" and check.get("hashValue"):
            hashes[hash_algorithm(str(check.get("algorithm", "")))] = str(
                check["hashValue"]
            ).lower()
    if not text(element.get("name")):
        warnings.add("package without a name")
    supplier = name_of(element.get("suppliedBy")) if element.get("suppliedBy") else None
    originators = [name_of(o) for o in as_list(element.get("originatedBy"))]
    return Component(
        ref=unique_ref(element_id, where, seen, warnings),
        name=text(element.get("name")) or "",
        version=text(element.get("software_packageVersion")),
        purl=purl,
        cpes=tuple(cpes),
        hashes=hashes,
        licences=tuple(dict.fromkeys(licences.get(element_id or "", []))),
        supplier=supplier or next(filter(None, originators), None),
        type=text(element.get("software_primaryPurpose")) or _PURPOSE_TYPES.get(_type(element)),
        filename=None,
        swid=swid,
    )
