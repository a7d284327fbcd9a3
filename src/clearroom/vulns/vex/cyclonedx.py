"""CycloneDX VEX (JSON, and XML through :mod:`.cyclonedx_xml`) to and from the normalised model.

Each ``vulnerabilities[]`` entry with an ``analysis`` is a statement; ``affects[].ref`` is
resolved against the BOM's components (a component nested in another becomes a subcomponent of
its top-level ancestor), and BOM-Links to other BOMs are kept as the product's id (with the
purl when the link's fragment is one). Each ``affects[].versions[]`` entry becomes one product
with that version or ``vers:`` range. CycloneDX has nine justifications to the CISA five, so
reading maps several onto one, and writing uses one canonical value per CISA label.
CycloneDX has no document "last updated" time.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from ._internal import Reader, format_time, merge_products
from .model import Justification, ProductRef, Status, VexDocument, VexFormat, VexStatement

STATES = {
    "not_affected": Status.NOT_AFFECTED,
    "false_positive": Status.NOT_AFFECTED,
    "exploitable": Status.AFFECTED,
    "resolved": Status.FIXED,
    "resolved_with_pedigree": Status.FIXED,
    "in_triage": Status.UNDER_INVESTIGATION,
}
EXPORT_STATES = {
    Status.NOT_AFFECTED: "not_affected",
    Status.AFFECTED: "exploitable",
    Status.FIXED: "resolved",
    Status.UNDER_INVESTIGATION: "in_triage",
}
JUSTIFICATIONS = {
    "code_not_present": Justification.VULNERABLE_CODE_NOT_PRESENT,
    "code_not_reachable": Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
    "requires_configuration": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "requires_dependency": Justification.COMPONENT_NOT_PRESENT,
    "requires_environment": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "protected_by_compiler": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_runtime": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_perimeter": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_by_mitigating_control": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
}
EXPORT_JUSTIFICATIONS = {
    Justification.COMPONENT_NOT_PRESENT: "requires_dependency",
    Justification.VULNERABLE_CODE_NOT_PRESENT: "code_not_present",
    Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH: "code_not_reachable",
    Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY: "requires_environment",
    Justification.INLINE_MITIGATIONS_ALREADY_EXIST: "protected_by_mitigating_control",
}
_CONTRADICTS = {
    Status.NOT_AFFECTED: "affected",
    Status.FIXED: "affected",
    Status.AFFECTED: "unaffected",
}


def is_vex(bom: dict[str, Any]) -> bool:
    """Whether a BOM holds at least one analysed vulnerability (a VEX statement)."""
    vulnerabilities = bom.get("vulnerabilities")
    return isinstance(vulnerabilities, list) and any(
        isinstance(v, dict) and isinstance(v.get("analysis"), dict) for v in vulnerabilities
    )


def parse(bom: dict[str, Any]) -> VexDocument:
    r = Reader("CycloneDX")
    if not is_vex(bom):
        raise r.error(
            "no vulnerabilities[] entry has an analysis, so this BOM makes no VEX statements;"
            " add vulnerabilities[].analysis.state (and affects[].ref) to each"
        )
    meta = r.obj(bom.get("metadata"), "metadata")
    index = _Index(r, bom, meta)
    timestamp = r.time(meta, "timestamp", "metadata")
    statements = []
    for i, raw in enumerate(r.items(bom, "vulnerabilities", "bom")):
        statement = _statement(r, index, r.obj(raw, f"vulnerabilities[{i}]"), i, timestamp)
        if statement is not None:
            statements.append(statement)
    return VexDocument(
        id=r.text(bom, "serialNumber", "bom"),
        author=_author(r, meta),
        version=r.text(bom, "version", "bom"),
        timestamp=timestamp,
        last_updated=None,
        statements=tuple(statements),
        format=VexFormat.CYCLONEDX,
        warnings=tuple(r.warnings),
    )


def _author(r: Reader, meta: dict[str, Any]) -> str | None:
    for k, raw in enumerate(r.items(meta, "authors", "metadata")):
        name = r.text(r.obj(raw, f"metadata.authors[{k}]"), "name", f"metadata.authors[{k}]")
        if name:
            return name
    for key in ("manufacturer", "manufacture", "supplier"):
        name = r.text(r.obj(meta.get(key), f"metadata.{key}"), "name", f"metadata.{key}")
        if name:
            return name
    return None


class _Index:
    """bom-ref to (component, top-level ancestor) over metadata.component, components, services."""

    def __init__(self, r: Reader, bom: dict[str, Any], meta: dict[str, Any]) -> None:
        self.r = r
        self.serial = r.text(bom, "serialNumber", "bom")
        self.refs: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        if isinstance(meta.get("component"), dict):
            self._walk([meta["component"]], None, "metadata.component")
        self._walk(r.items(bom, "components", "bom"), None, "components")
        self._walk(r.items(bom, "services", "bom"), None, "services")

    def _walk(self, items: list[Any], top: dict[str, Any] | None, where: str) -> None:
        for i, raw in enumerate(items):
            component = self.r.obj(raw, f"{where}[{i}]")
            ref = self.r.text(component, "bom-ref", f"{where}[{i}]")
            if ref:
                self.refs.setdefault(ref, (component, top))
            for key in ("components", "services"):
                nested = self.r.items(component, key, f"{where}[{i}]")
                self._walk(nested, top or component, f"{where}[{i}].{key}")

    def product(self, ref: str, where: str) -> tuple[ProductRef, bool]:
        """The product a ref names, and whether the versions belong to a subcomponent."""
        if ref.startswith("urn:cdx:"):
            serial, _, fragment = ref[len("urn:cdx:") :].partition("#")
            fragment = unquote(fragment)
            if self.serial and f"urn:uuid:{serial.split('/')[0]}" == self.serial:
                ref = fragment
            else:
                return ProductRef(
                    id=ref, purl=fragment if fragment.startswith("pkg:") else None
                ), False
        if ref not in self.refs:
            self.r.warn(f"{where} {ref!r} matches no component in this BOM")
            return ProductRef(id=ref, purl=ref if ref.startswith("pkg:") else None), False
        component, top = self.refs[ref]
        if top is None:
            return self._ref(component, where), False
        return ProductRef(
            **_fields(self._ref(top, where)), subcomponents=(self._ref(component, where),)
        ), True

    def _ref(self, component: dict[str, Any], where: str) -> ProductRef:
        r = self.r
        return ProductRef(
            id=r.text(component, "bom-ref", where),
            purl=r.purl(r.text(component, "purl", where), f"{where} purl"),
            cpe=r.text(component, "cpe", where),
            name=r.text(component, "name", where),
            version=r.text(component, "version", where),
        )


def _fields(product: ProductRef) -> dict[str, Any]:
    return {
        "id": product.id,
        "purl": product.purl,
        "cpe": product.cpe,
        "name": product.name,
        "version": product.version,
        "version_range": product.version_range,
    }


def _statement(
    r: Reader, index: _Index, vuln: dict[str, Any], i: int, inherited: datetime | None
) -> VexStatement | None:
    where = f"vulnerabilities[{i}]"
    analysis = r.obj(vuln.get("analysis"), f"{where}.analysis")
    state = r.text(analysis, "state", f"{where}.analysis")
    if state is None:
        r.warn(f"{where} has no analysis.state; not a VEX statement, skipped")
        return None
    if state not in STATES:
        allowed = ", ".join(STATES)
        raise r.error(f"{where}.analysis.state is {state!r}; expected one of {allowed}")
    status = STATES[state]
    justification = None
    label = r.text(analysis, "justification", f"{where}.analysis")
    if label is not None:
        justification = JUSTIFICATIONS.get(label)
        if justification is None:
            r.warn(f"{where}.analysis.justification {label!r} is not a CycloneDX one; ignored")
    detail = r.text(analysis, "detail", f"{where}.analysis")
    action = r.text(vuln, "recommendation", where)
    impact = detail
    if status is Status.AFFECTED and action is None:
        action, impact = detail, None
    aliases = []
    for k, raw in enumerate(r.items(vuln, "references", where)):
        alias = r.text(r.obj(raw, f"{where}.references[{k}]"), "id", f"{where}.references[{k}]")
        if alias:
            aliases.append(alias)
    products: list[ProductRef] = []
    for k, raw in enumerate(r.items(vuln, "affects", where)):
        products += _affects(
            r, index, r.obj(raw, f"{where}.affects[{k}]"), status, f"{where}.affects[{k}]"
        )
    timestamp = None
    for source, key in (
        (analysis, "lastUpdated"),
        (analysis, "firstIssued"),
        (vuln, "updated"),
        (vuln, "published"),
    ):
        timestamp = timestamp or r.time(source, key, where)
    return VexStatement(
        vulnerability=r.text(vuln, "id", where) or "",
        aliases=tuple(dict.fromkeys(a for a in aliases if a != vuln.get("id"))),
        products=merge_products(products),
        status=status,
        justification=justification,
        impact_statement=impact,
        action_statement=action,
        timestamp=timestamp or inherited,
    )


def _affects(
    r: Reader, index: _Index, target: dict[str, Any], status: Status, where: str
) -> list[ProductRef]:
    ref = r.text(target, "ref", where)
    if ref is None:
        r.warn(f"{where} has no ref; ignored")
        return []
    product, nested = index.product(ref, f"{where}.ref")
    versions = r.items(target, "versions", where)
    if not versions:
        return [product]
    products = []
    for k, raw in enumerate(versions):
        entry = r.obj(raw, f"{where}.versions[{k}]")
        claimed = r.text(entry, "status", f"{where}.versions[{k}]")
        if claimed is not None and claimed == _CONTRADICTS.get(status):
            r.warn(f"{where}.versions[{k}] contradicts the analysis state; ignored")
            continue
        version = r.text(entry, "version", f"{where}.versions[{k}]")
        version_range = r.text(entry, "range", f"{where}.versions[{k}]")
        if nested:
            sub = product.subcomponents[0]
            sub = ProductRef(**{**_fields(sub), "version": version, "version_range": version_range})
            products.append(ProductRef(**_fields(product), subcomponents=(sub,)))
        else:
            products.append(
                ProductRef(
                    **{**_fields(product), "version": version, "version_range": version_range}
                )
            )
    return products


def dump(doc: VexDocument) -> dict[str, Any]:
    """A CycloneDX 1.5 VEX BOM: products as components, one vulnerability per statement."""
    components = _Components()
    inherited = doc.last_updated or doc.timestamp
    vulnerabilities = []
    for statement in doc.statements:
        analysis = {
            "state": EXPORT_STATES[statement.status],
            "justification": (
                EXPORT_JUSTIFICATIONS[statement.justification] if statement.justification else None
            ),
            "detail": statement.impact_statement,
            "lastUpdated": (
                format_time(statement.timestamp) if statement.timestamp != inherited else None
            ),
        }
        if statement.status is Status.AFFECTED and statement.impact_statement is None:
            analysis["detail"], recommendation = statement.action_statement, None
        else:
            recommendation = statement.action_statement
        references = [{"id": a, "source": {"name": a.split("-", 1)[0]}} for a in statement.aliases]
        vulnerabilities.append(
            _clean(
                {
                    "id": statement.vulnerability,
                    "references": references or None,
                    "recommendation": recommendation,
                    "analysis": _clean(analysis),
                    "affects": [t for p in statement.products for t in components.targets(p)],
                }
            )
        )
    version = int(doc.version) if doc.version and doc.version.isdigit() else 1
    metadata = _clean(
        {
            "timestamp": format_time(doc.timestamp),
            "authors": [{"name": doc.author}] if doc.author else None,
        }
    )
    return _clean(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "serialNumber": doc.id,
            "version": version,
            "metadata": metadata,
            "components": components.top or None,
            "vulnerabilities": vulnerabilities,
        }
    )


class _Components:
    """Components for the products, each once, with unique bom-refs."""

    def __init__(self) -> None:
        self.top: list[dict[str, Any]] = []
        self.seen: dict[str, dict[str, Any]] = {}
        self.refs: set[str] = set()

    def targets(self, product: ProductRef) -> list[dict[str, Any]]:
        bare = not (product.purl or product.cpe or product.name or product.subcomponents)
        if product.id and (product.id.startswith("urn:cdx:") or bare):
            return [_target(product.id, product)]  # a BOM-Link, or a ref read unresolved
        if not product.subcomponents:
            component = self._component(product, self.top, "application")
            return [_target(component["bom-ref"], product)]
        parent = self._component(product, self.top, "application", keep_version=True)
        children = parent.setdefault("components", [])
        return [
            _target(self._component(sub, children, "library")["bom-ref"], sub)
            for sub in product.subcomponents
        ]

    def _component(
        self,
        product: ProductRef,
        siblings: list[dict[str, Any]],
        kind: str,
        keep_version: bool = False,
    ) -> dict[str, Any]:
        body = _clean(
            {
                "type": kind,
                "name": product.name or product.purl or product.cpe or product.id or "unnamed",
                "version": product.version if keep_version else None,
                "purl": product.purl,
                "cpe": product.cpe,
            }
        )
        identity = json.dumps([product.id, body, id(siblings)], sort_keys=True)
        if identity in self.seen:
            return self.seen[identity]
        ref = product.id or f"product-{len(self.refs) + 1}"
        n = 1
        while ref in self.refs:
            n += 1
            ref = f"{product.id or 'product'}-{n}"
        self.refs.add(ref)
        component = {"type": kind, "bom-ref": ref, **body}
        self.seen[identity] = component
        siblings.append(component)
        return component


def _target(ref: str, product: ProductRef) -> dict[str, Any]:
    target: dict[str, Any] = {"ref": ref}
    if product.version:
        target["versions"] = [{"version": product.version}]
    elif product.version_range:
        target["versions"] = [{"range": product.version_range}]
    return target


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
