"""How complete an SBOM is, against the NTIA minimum elements and BSI TR-03183-2 v2.1.0.

Why a score per element: "73 %" alone says nothing a supplier can fix. Each element counts
equally: a document-level element is met or not, a component-level one scores the share of
components (the subject included) that carry it. The report lists what is missing, per
document and per component, so it can be shown as a to-do list and stored as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clearroom.sbom.model import Component, Sbom

NTIA = "NTIA minimum elements (2021)"
BSI = "BSI TR-03183-2 v2.1.0"


@dataclass(frozen=True)
class StandardReport:
    """One standard's verdict: a percentage, per-element shares, and what is missing where."""

    standard: str
    score: float
    """0-100: the mean, over the standard's elements, of the share that is present."""
    elements: Mapping[str, float] = field(hash=False)
    document: tuple[str, ...]
    """Document-level elements that are missing or wrong, each with a short reason."""
    components: Mapping[str, tuple[str, ...]] = field(hash=False)
    """Component ref -> the elements it lacks (components lacking nothing are left out)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "score": self.score,
            "elements": dict(self.elements),
            "document": list(self.document),
            "components": {ref: list(missing) for ref, missing in self.components.items()},
        }


@dataclass(frozen=True)
class QualityReport:
    ntia: StandardReport
    bsi: StandardReport

    def to_dict(self) -> dict[str, Any]:
        return {"ntia": self.ntia.to_dict(), "bsi": self.bsi.to_dict()}


ComponentCheck = Callable[[Component], bool]


def assess(sbom: Sbom) -> QualityReport:
    """Score ``sbom`` against both standards."""
    linked = set(sbom.dependencies)
    for targets in sbom.dependencies.values():
        linked.update(targets)

    def has_dependencies(c: Component) -> bool:
        return c.ref in linked

    def has_unique_id(c: Component) -> bool:
        return bool(c.purl or c.cpes or c.swid)

    shared: dict[str, ComponentCheck] = {
        "name": lambda c: bool(c.name),
        "version": lambda c: bool(c.version),
    }
    ntia_components: dict[str, ComponentCheck] = {
        "supplier": lambda c: bool(c.supplier),
        **shared,
        "unique-id": has_unique_id,
        "dependencies": has_dependencies,
    }
    bsi_components: dict[str, ComponentCheck] = {
        "component-creator": lambda c: bool(c.supplier),
        **shared,
        "filename": lambda c: bool(c.filename),
        "dependencies": has_dependencies,
        "licence": lambda c: bool(c.licences),
        "sha512": lambda c: "sha512" in c.hashes,
        "unique-id": has_unique_id,
    }
    timestamp = None if sbom.created else "timestamp: the SBOM does not say when it was made"
    ntia_document = {"author": _author_finding(sbom, "author"), "timestamp": timestamp}
    bsi_document = {
        "creator": _author_finding(sbom, "creator"),
        "timestamp": timestamp,
        "spec-version": _spec_finding(sbom),
        "no-vulnerabilities": (
            f"no-vulnerabilities: the SBOM carries {sbom.vulnerabilities} vulnerability entries;"
            " BSI wants them in a separate VEX/CSAF document"
            if sbom.vulnerabilities
            else None
        ),
    }
    return QualityReport(
        ntia=_report(NTIA, sbom, ntia_document, ntia_components),
        bsi=_report(BSI, sbom, bsi_document, bsi_components),
    )


def _report(
    standard: str,
    sbom: Sbom,
    document: Mapping[str, str | None],
    checks: Mapping[str, ComponentCheck],
) -> StandardReport:
    components = ([sbom.subject] if sbom.subject else []) + list(sbom.components)
    present = dict.fromkeys(checks, 0)
    missing: dict[str, tuple[str, ...]] = {}
    for component in components:
        lacks = []
        for element, check in checks.items():
            if check(component):
                present[element] += 1
            else:
                lacks.append(element)
        if lacks:
            missing[component.ref] = tuple(lacks)
    elements = {name: 0.0 if finding else 100.0 for name, finding in document.items()}
    for element, count in present.items():
        elements[element] = round(100 * count / len(components), 1) if components else 0.0
    findings = [finding for finding in document.values() if finding]
    if not components:
        findings.append("components: the SBOM lists no components")
    return StandardReport(
        standard=standard,
        score=round(sum(elements.values()) / len(elements), 1),
        elements=elements,
        document=tuple(findings),
        components=missing,
    )


def _author_finding(sbom: Sbom, element: str) -> str | None:
    if sbom.authors:
        return None
    if sbom.tools:
        return f"{element}: only tools are named, not the person or organisation responsible"
    return f"{element}: the SBOM does not name its author"


def _spec_finding(sbom: Sbom) -> str | None:
    wanted = (1, 6) if sbom.format == "cyclonedx" else (3, 0, 1)
    if _version(sbom.spec_version) >= wanted:
        return None
    label = "CycloneDX" if sbom.format == "cyclonedx" else "SPDX"
    return (
        f"spec-version: {label} {sbom.spec_version} is older than the required "
        f"{'.'.join(map(str, wanted))}"
    )


def _version(value: str) -> tuple[int, ...]:
    parts = []
    for part in value.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
