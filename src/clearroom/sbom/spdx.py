"""SPDX 2.2/2.3, JSON and tag-value, into :class:`~clearroom.sbom.model.Sbom`.

Why packages only: SPDX files are mostly the source files inside a package; the packages are
what suppliers version, license and get advisories for. Tag-value is first turned into the
JSON shape so the mapping below is written once. Relationships become ``dependencies`` edges
pointing from the dependent (or container) to what it needs; their inverse forms
(``DEPENDENCY_OF``, ``CONTAINED_BY``...) are turned around.
"""

from __future__ import annotations

import re
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
from clearroom.sbom.errors import SbomError
from clearroom.sbom.model import Component, Sbom

FORWARD = frozenset(
    {"DEPENDS_ON", "CONTAINS", "STATIC_LINK", "DYNAMIC_LINK", "HAS_PREREQUISITE", "ANCESTOR_OF"}
)
"""``A <type> B``: A needs or holds B."""
BACKWARD = frozenset(
    {
        "DEPENDENCY_OF",
        "CONTAINED_BY",
        "RUNTIME_DEPENDENCY_OF",
        "BUILD_DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "TEST_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
        "PREREQUISITE_FOR",
        "DESCENDANT_OF",
    }
)
"""``A <type> B``: B needs or holds A."""
_ADVISORY = frozenset({"advisory", "fix", "url"})
_UNKNOWN = frozenset({"NOASSERTION", "NONE"})
_PARTY = re.compile(r"^\s*(Person|Organization|Tool)\s*:\s*(.*?)\s*$", re.IGNORECASE)


def parse_json(document: dict[str, Any]) -> Sbom:
    """An SPDX 2.x document decoded from JSON (or from tag-value by :func:`parse_tag_value`)."""
    warnings = Warnings()
    version = str(document.get("spdxVersion", "")).removeprefix("SPDX-").strip()
    if version not in ("2.2", "2.3"):
        warnings.add(f"SPDX version {version[:20]!r} read as 2.3")
    info = document.get("creationInfo")
    if not isinstance(info, dict):
        info = {}
    authors, tools = [], []
    for creator in as_list(info.get("creators")):
        match = _PARTY.match(str(creator))
        if not match:
            warnings.add(f"creator {str(creator)[:80]!r} without Person/Organization/Tool")
        elif match.group(1).lower() == "tool":
            tools.append(match.group(2))
        else:
            authors.append(match.group(2))
    seen: set[str] = set()
    components: list[Component] = []
    vulnerabilities = 0
    for index, package in enumerate(as_list(document.get("packages"))):
        if not isinstance(package, dict):
            warnings.add("package is not an object, ignored")
            continue
        components.append(_package(package, f"packages[{index}]", seen, warnings))
        refs = [r for r in as_list(package.get("externalRefs")) if isinstance(r, dict)]
        vulnerabilities += sum(1 for r in refs if _is_advisory(r))
    doc_id = text(document.get("SPDXID")) or "SPDXRef-DOCUMENT"
    described = [d for d in as_list(document.get("documentDescribes")) if isinstance(d, str)]
    dependencies: dict[str, list[str]] = {}
    for relationship in as_list(document.get("relationships")):
        if not isinstance(relationship, dict):
            continue
        a = text(relationship.get("spdxElementId"))
        kind = str(relationship.get("relationshipType", "")).upper()
        b = text(relationship.get("relatedSpdxElement"))
        if not a or not b or b in _UNKNOWN:
            continue
        if kind == "DESCRIBES" and a == doc_id:
            described.append(b)
        elif kind == "DESCRIBED_BY" and b == doc_id:
            described.append(a)
        elif kind in FORWARD or kind in BACKWARD:
            parent, child = (a, b) if kind in FORWARD else (b, a)
            targets = dependencies.setdefault(parent, [])
            if child not in targets:
                targets.append(child)
    by_ref = {c.ref: c for c in components}
    roots = list(dict.fromkeys(d for d in described if d in by_ref))
    subject = by_ref[roots[0]] if len(roots) == 1 else None
    return Sbom(
        format="spdx",
        spec_version=version or "2.3",
        serial=text(document.get("documentNamespace")),
        created=timestamp(info.get("created"), "creationInfo.created", warnings),
        authors=tuple(authors),
        tools=tuple(tools),
        subject=subject,
        components=tuple(c for c in components if c is not subject),
        dependencies=_known(dependencies, by_ref),
        warnings=warnings.result(),
        vulnerabilities=vulnerabilities,
    )


def _is_advisory(ref: dict[str, Any]) -> bool:
    """A SECURITY reference to an advisory or fix is vulnerability data; a CPE is not."""
    category = str(ref.get("referenceCategory", "")).upper().replace("_", "-")
    return category == "SECURITY" and str(ref.get("referenceType", "")).lower() in _ADVISORY


def _known(edges: dict[str, list[str]], by_ref: dict[str, Component]) -> dict[str, tuple[str, ...]]:
    """Edges between packages only (files and other documents' elements are not components)."""
    known = {}
    for parent, children in edges.items():
        if parent in by_ref:
            kept = tuple(c for c in children if c in by_ref)
            if kept:
                known[parent] = kept
    return known


def _package(package: dict[str, Any], where: str, seen: set[str], warnings: Warnings) -> Component:
    name = text(package.get("name"))
    if name is None:
        warnings.add("package without a name")
    purl, cpes, swid = None, [], None
    for ref in as_list(package.get("externalRefs")):
        if not isinstance(ref, dict):
            continue
        kind, locator = str(ref.get("referenceType", "")).lower(), text(ref.get("referenceLocator"))
        if kind == "purl" and purl is None:
            purl = checked_purl(locator, where, warnings)
        elif kind in ("cpe23type", "cpe22type") and locator:
            cpes.append(locator)
        elif kind == "swid" and locator:
            swid = locator
    hashes = {}
    for checksum in as_list(package.get("checksums")):
        if (
            isinstance(checksum, dict)
            and checksum.get("algorithm")
            and checksum.get("checksumValue")
        ):
            hashes[hash_algorithm(str(checksum["algorithm"]))] = str(
                checksum["checksumValue"]
            ).lower()
    licences = []
    for key in ("licenseDeclared", "licenseConcluded"):
        value = text(package.get(key))
        if value and value.upper() not in _UNKNOWN and value not in licences:
            licences.append(value)
    return Component(
        ref=unique_ref(text(package.get("SPDXID")), where, seen, warnings),
        name=name or "",
        version=text(package.get("versionInfo")),
        purl=purl,
        cpes=tuple(cpes),
        hashes=hashes,
        licences=tuple(licences),
        supplier=_party(package.get("supplier")) or _party(package.get("originator")),
        type=(text(package.get("primaryPackagePurpose")) or "").lower() or None,
        filename=text(package.get("packageFileName")),
        swid=swid,
    )


def _party(value: Any) -> str | None:
    raw = text(value)
    if raw is None or raw.upper() in _UNKNOWN:
        return None
    match = _PARTY.match(raw)
    return (match.group(2) if match else raw) or None


# -- tag-value --------------------------------------------------------------------------------

_DOCUMENT_TAGS = {
    "SPDXVersion": "spdxVersion",
    "DocumentNamespace": "documentNamespace",
    "DocumentName": "name",
    "SPDXID": "SPDXID",
}
_PACKAGE_TAGS = {
    "SPDXID": "SPDXID",
    "PackageVersion": "versionInfo",
    "PackageSupplier": "supplier",
    "PackageOriginator": "originator",
    "PackageFileName": "packageFileName",
    "PackageLicenseConcluded": "licenseConcluded",
    "PackageLicenseDeclared": "licenseDeclared",
    "PrimaryPackagePurpose": "primaryPackagePurpose",
}
_OTHER_SECTIONS = frozenset({"FileName", "SnippetSPDXID", "LicenseID"})


def parse_tag_value(data: str) -> Sbom:
    """An SPDX 2.x tag-value document (multi-line ``<text>`` values are skipped over)."""
    document: dict[str, Any] = {
        "creationInfo": {"creators": []},
        "packages": [],
        "relationships": [],
    }
    section: dict[str, Any] | None = document
    lines = iter(data.splitlines())
    for line in lines:
        tag, sep, value = line.partition(":")
        tag, value = tag.strip(), value.strip()
        if not sep or not tag or tag.startswith("#"):
            continue
        if value.startswith("<text>"):
            while "</text>" not in value:
                value = next(lines, "</text>")
            continue
        if tag == "PackageName":
            section = {"name": value}
            document["packages"].append(section)
        elif tag in _OTHER_SECTIONS:
            section = None
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) >= 3:
                document["relationships"].append(
                    {
                        "spdxElementId": parts[0],
                        "relationshipType": parts[1],
                        "relatedSpdxElement": parts[2],
                    }
                )
        elif tag == "Creator":
            document["creationInfo"]["creators"].append(value)
        elif tag == "Created":
            document["creationInfo"]["created"] = value
        elif section is document and tag in _DOCUMENT_TAGS:
            document[_DOCUMENT_TAGS[tag]] = value
        elif section is not None and section is not document:
            _package_tag(section, tag, value)
    if "spdxVersion" not in document:
        raise SbomError("SBOM: SPDX tag-value without an SPDXVersion line")
    return parse_json(document)


def _package_tag(package: dict[str, Any], tag: str, value: str) -> None:
    if tag in _PACKAGE_TAGS:
        package[_PACKAGE_TAGS[tag]] = value
    elif tag == "PackageChecksum":
        algorithm, _, digest = value.partition(":")
        package.setdefault("checksums", []).append(
            {"algorithm": algorithm.strip(), "checksumValue": digest.strip()}
        )
    elif tag == "ExternalRef":
        parts = value.split(None, 2)
        if len(parts) == 3:
            package.setdefault("externalRefs", []).append(
                {
                    "referenceCategory": parts[0],
                    "referenceType": parts[1],
                    "referenceLocator": parts[2],
                }
            )
