"""CSAF 2.0 VEX profile (``csaf_vex``) to and from the normalised model.

Products come from the product tree (branches give name and version, the product
identification helper gives purl and CPE; a relationship makes a product with a subcomponent);
``product_status`` gives the status, ``flags`` the justification, ``threats`` of category
``impact`` the impact statement and ``remediations`` the action statement. Statements are
grouped per vulnerability and status, products sharing the same details in one statement.
The remediation category is not in the model: export writes ``vendor_fix`` for affected and
fixed products and ``mitigation`` otherwise.

Export passes the OASIS reference validator's mandatory and optional tests (CSAF 2.0 section
6.1, 6.2) where the model holds what they ask for: a ``summary`` note per vulnerability
(6.1.27.5), a revision history from version 1 (6.1.21), a ``self`` reference to the canonical
URL when the caller gives one (6.2.11), the product identification helper of the component
for each relationship (6.2.16), a ``none_available`` remediation (read back as no action
statement) for affected and investigated products the statement gives none for (6.2.2), and
keys in sorted order (6.2.13). VEX carries no CVSS score, so affected products have none
(6.2.3 warns); nor do products known only by name have a helper.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from ._internal import Reader, format_time, merge_products
from .model import Justification, ProductRef, Status, VexDocument, VexFormat, VexStatement

STATUS_KEYS = {
    "known_not_affected": Status.NOT_AFFECTED,
    "known_affected": Status.AFFECTED,
    "first_affected": Status.AFFECTED,
    "last_affected": Status.AFFECTED,
    "fixed": Status.FIXED,
    "first_fixed": Status.FIXED,
    "under_investigation": Status.UNDER_INVESTIGATION,
}
EXPORT_KEYS = {
    Status.NOT_AFFECTED: "known_not_affected",
    Status.AFFECTED: "known_affected",
    Status.FIXED: "fixed",
    Status.UNDER_INVESTIGATION: "under_investigation",
}
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")
NO_REMEDIATION = "The VEX statement names no remediation for this product."
"""The details of the remediation export writes where CSAF wants one and the model has none."""
MAX_REVISIONS = 100
"""Earlier versions written into the revision history (CSAF 6.1.21 wants no gaps)."""
_SUMMARY = {
    Status.NOT_AFFECTED: "not affected",
    Status.AFFECTED: "affected",
    Status.FIXED: "fixed",
    Status.UNDER_INVESTIGATION: "under investigation",
}

_Details = tuple[Justification | None, str | None, str | None, datetime | None]


def parse(document: dict[str, Any]) -> VexDocument:
    r = Reader("CSAF")
    meta = r.obj(document.get("document"), "document")
    category = r.text(meta, "category", "document")
    if category != "csaf_vex":
        r.warn(f"document.category is {category!r}, not 'csaf_vex'; product statuses read anyway")
    tracking = r.obj(meta.get("tracking"), "document.tracking")
    publisher = r.obj(meta.get("publisher"), "document.publisher")
    timestamp = r.time(tracking, "initial_release_date", "document.tracking")
    last_updated = r.time(tracking, "current_release_date", "document.tracking")
    tree = _Tree(r, r.obj(document.get("product_tree"), "product_tree"))
    statements: list[VexStatement] = []
    for i, raw in enumerate(r.items(document, "vulnerabilities", "document")):
        statements += _vulnerability(r, tree, r.obj(raw, f"vulnerabilities[{i}]"), i)
    if not statements:
        r.warn("the document has no product_status entries, so no VEX statements")
    inherited = last_updated or timestamp
    return VexDocument(
        id=r.text(tracking, "id", "document.tracking"),
        author=r.text(publisher, "name", "document.publisher"),
        version=r.text(tracking, "version", "document.tracking"),
        timestamp=timestamp,
        last_updated=last_updated,
        statements=tuple(s if s.timestamp else _with_time(s, inherited) for s in statements),
        format=VexFormat.CSAF,
        warnings=tuple(r.warnings),
    )


def _with_time(statement: VexStatement, when: datetime | None) -> VexStatement:
    return replace(statement, timestamp=when)


class _Tree:
    """Product ids to products, from branches, full product names and relationships."""

    def __init__(self, r: Reader, tree: dict[str, Any]) -> None:
        self.r = r
        self.products: dict[str, ProductRef] = {}
        self.groups: dict[str, list[str]] = {}
        for i, branch in enumerate(r.items(tree, "branches", "product_tree")):
            self._branch(branch, f"product_tree.branches[{i}]", {})
        for i, raw in enumerate(r.items(tree, "full_product_names", "product_tree")):
            self._full(r.obj(raw, f"product_tree.full_product_names[{i}]"), {}, "product_tree")
        for i, raw in enumerate(r.items(tree, "product_groups", "product_tree")):
            group = r.obj(raw, f"product_tree.product_groups[{i}]")
            gid = r.text(group, "group_id", f"product_tree.product_groups[{i}]")
            if gid:
                ids = r.items(group, "product_ids", f"product_tree.product_groups[{i}]")
                self.groups[gid] = [p for p in ids if isinstance(p, str)]
        for i, raw in enumerate(r.items(tree, "relationships", "product_tree")):
            self._relationship(r.obj(raw, f"product_tree.relationships[{i}]"), i)

    def _branch(self, raw: Any, where: str, context: dict[str, str]) -> None:
        branch = self.r.obj(raw, where)
        category = self.r.text(branch, "category", where) or ""
        name = self.r.text(branch, "name", where)
        context = {**context, category: name} if name else context
        if "product" in branch:
            self._full(self.r.obj(branch["product"], f"{where}.product"), context, where)
        for i, sub in enumerate(self.r.items(branch, "branches", where)):
            self._branch(sub, f"{where}.branches[{i}]", context)

    def _full(self, product: dict[str, Any], context: dict[str, str], where: str) -> None:
        pid = self.r.text(product, "product_id", where)
        if not pid:
            self.r.warn(f"{where}: a product without product_id is ignored")
            return
        helper = self.r.obj(product.get("product_identification_helper"), f"{where} helper")
        purl = self.r.text(helper, "purl", where)
        purls = [p for p in self.r.items(helper, "purls", where) if isinstance(p, str)]
        version_range = context.get("product_version_range")
        self.products[pid] = ProductRef(
            id=pid,
            purl=self.r.purl(purl or (purls[0] if purls else None), f"{where} purl"),
            cpe=self.r.text(helper, "cpe", where),
            name=context.get("product_name") or self.r.text(product, "name", where),
            version=context.get("product_version"),
            version_range=version_range,
        )

    def _relationship(self, relationship: dict[str, Any], i: int) -> None:
        where = f"product_tree.relationships[{i}]"
        full = self.r.obj(relationship.get("full_product_name"), f"{where}.full_product_name")
        pid = self.r.text(full, "product_id", f"{where}.full_product_name")
        component = self.r.text(relationship, "product_reference", where)
        platform = self.r.text(relationship, "relates_to_product_reference", where)
        if not (pid and component and platform):
            self.r.warn(f"{where} lacks a product id or reference; ignored")
            return
        top = self.lookup(platform, where)
        self.products[pid] = ProductRef(
            id=top.id,
            purl=top.purl,
            cpe=top.cpe,
            name=top.name,
            version=top.version,
            version_range=top.version_range,
            subcomponents=(self.lookup(component, where),),
        )

    def lookup(self, pid: str, where: str) -> ProductRef:
        if pid not in self.products:
            self.r.warn(f"{where} names product {pid!r}, which the product tree does not define")
            self.products[pid] = ProductRef(id=pid)
        return self.products[pid]

    def expand(self, item: dict[str, Any], where: str) -> list[str]:
        ids = [p for p in self.r.items(item, "product_ids", where) if isinstance(p, str)]
        for gid in self.r.items(item, "group_ids", where):
            ids += self.groups.get(gid, [])
        return ids


def _vulnerability(r: Reader, tree: _Tree, vuln: dict[str, Any], i: int) -> list[VexStatement]:
    where = f"vulnerabilities[{i}]"
    names = [r.text(vuln, "cve", where)]
    for k, raw in enumerate(r.items(vuln, "ids", where)):
        names.append(r.text(r.obj(raw, f"{where}.ids[{k}]"), "text", f"{where}.ids[{k}]"))
    known = list(dict.fromkeys(n for n in names if n))
    if not known:
        r.warn(f"{where} has neither cve nor ids")
    justification: dict[str, Justification] = {}
    impact: dict[str, str] = {}
    action: dict[str, list[str]] = {}
    dates: dict[str, list[datetime]] = {}

    def note(item: dict[str, Any], at: str) -> list[str]:
        ids = tree.expand(item, at)
        when = r.time(item, "date", at)
        for pid in ids if when else ():
            dates.setdefault(pid, []).append(when)  # type: ignore[arg-type]
        return ids

    for k, raw in enumerate(r.items(vuln, "flags", where)):
        flag = r.obj(raw, f"{where}.flags[{k}]")
        label = r.text(flag, "label", f"{where}.flags[{k}]")
        try:
            value = Justification(label or "")
        except ValueError:
            r.warn(f"{where}.flags[{k}].label {label!r} is not a CSAF VEX justification; ignored")
            continue
        for pid in note(flag, f"{where}.flags[{k}]"):
            justification[pid] = value
    for k, raw in enumerate(r.items(vuln, "threats", where)):
        threat = r.obj(raw, f"{where}.threats[{k}]")
        details = r.text(threat, "details", f"{where}.threats[{k}]")
        if r.text(threat, "category", f"{where}.threats[{k}]") == "impact" and details:
            for pid in note(threat, f"{where}.threats[{k}]"):
                impact[pid] = details
    for k, raw in enumerate(r.items(vuln, "remediations", where)):
        remediation = r.obj(raw, f"{where}.remediations[{k}]")
        details = r.text(remediation, "details", f"{where}.remediations[{k}]")
        if details and details != NO_REMEDIATION:
            for pid in note(remediation, f"{where}.remediations[{k}]"):
                action.setdefault(pid, []).append(details)

    grouped: dict[tuple[Status, _Details], list[ProductRef]] = {}
    product_status = r.obj(vuln.get("product_status"), f"{where}.product_status")
    for key in sorted(product_status):  # the order export writes (CSAF 6.2.13)
        status = STATUS_KEYS.get(key)
        if status is None:
            if key != "recommended":
                r.warn(f"{where}.product_status.{key} is not a CSAF product status; ignored")
            continue
        for pid in r.items(product_status, key, f"{where}.product_status"):
            if not isinstance(pid, str):
                continue
            found: _Details = (
                justification.get(pid),
                impact.get(pid),
                "\n".join(action[pid]) if pid in action else None,
                max(dates[pid]) if pid in dates else None,
            )
            product = tree.lookup(pid, f"{where}.product_status.{key}")
            grouped.setdefault((status, found), []).append(product)
    return [
        VexStatement(
            vulnerability=known[0] if known else "",
            aliases=tuple(known[1:]),
            products=merge_products(products),
            status=status,
            justification=details[0],
            impact_statement=details[1],
            action_statement=details[2],
            timestamp=details[3],
        )
        for (status, details), products in grouped.items()
    ]


def filename(tracking_id: str) -> str:
    """CSAF 2.0 section 5.1: lower case, anything but ``+ - a-z 0-9`` becomes ``_``."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def dump(
    doc: VexDocument,
    *,
    namespace: str = "",
    canonical_url: str = "",
    lang: str = "",
    tlp: str = "",
) -> dict[str, Any]:
    """The CSAF 2.0 ``csaf_vex`` document. ``namespace`` is the publisher's URL, which CSAF
    requires and the model does not hold; ``canonical_url`` where the document is published
    (ending in :func:`filename` of its id), ``lang`` its language and ``tlp`` its TLP label,
    which the model does not hold either."""
    ids = _Ids()
    inherited = doc.last_updated or doc.timestamp
    vulnerabilities: dict[str, dict[str, Any]] = {}
    said: dict[str, list[VexStatement]] = {}
    for statement in doc.statements:
        pids = [pid for p in statement.products for pid in ids.products(p)]
        vuln = vulnerabilities.setdefault(statement.vulnerability, _vuln_entry(statement))
        said.setdefault(statement.vulnerability, []).append(statement)
        vuln["product_status"].setdefault(EXPORT_KEYS[statement.status], []).extend(pids)
        date = format_time(statement.timestamp) if statement.timestamp != inherited else None
        dated = {"product_ids": pids} | ({"date": date} if date else {})
        if statement.justification:
            flag = {"label": str(statement.justification), **dated}
            vuln.setdefault("flags", []).append(flag)
        if statement.impact_statement:
            threat = {"category": "impact", "details": statement.impact_statement, **dated}
            vuln.setdefault("threats", []).append(threat)
        if statement.action_statement:
            fix = statement.status in (Status.AFFECTED, Status.FIXED)
            vuln.setdefault("remediations", []).append(
                {
                    "category": "vendor_fix" if fix else "mitigation",
                    "details": statement.action_statement,
                    **dated,
                }
            )
        elif pids and statement.status in (Status.AFFECTED, Status.UNDER_INVESTIGATION):
            none = {"category": "none_available", "details": NO_REMEDIATION, **dated}
            vuln.setdefault("remediations", []).append(none)
    for name, vuln in vulnerabilities.items():
        vuln["notes"] = [_summary_note(name, said[name])]
    tracking = {
        "id": doc.id,
        "version": doc.version or "1",
        "status": "final",
        "initial_release_date": format_time(doc.timestamp),
        "current_release_date": format_time(inherited),
        "revision_history": _revisions(
            doc.version or "1", format_time(doc.timestamp), format_time(inherited)
        ),
    }
    publisher = {"category": "vendor", "name": doc.author, "namespace": namespace or None}
    meta: dict[str, Any] = {
        "category": "csaf_vex",
        "csaf_version": "2.0",
        "publisher": _clean(publisher),
        "title": f"VEX {doc.id or ''}".strip(),
        "tracking": _clean(tracking),
    }
    if canonical_url:
        self_ref = {"category": "self", "summary": "Canonical URL", "url": canonical_url}
        meta["references"] = [self_ref]
    if lang:
        meta["lang"] = lang
    if tlp:
        meta["distribution"] = {"tlp": {"label": tlp, "url": "https://www.first.org/tlp/"}}
    return {
        "document": meta,
        "product_tree": ids.tree(),
        "vulnerabilities": list(vulnerabilities.values()),
    }


def _revisions(version: str, initial: str | None, current: str | None) -> list[dict[str, str]]:
    """Version 1 at the initial release, the current version at the current release date and
    the versions between (which the model does not describe) at the initial one: CSAF 6.1.21
    wants the history to start at 0 or 1 without gaps, 6.2.5 and 6.2.6 its dates within the
    document's. Semantic versions count majors; past :data:`MAX_REVISIONS`, only the current."""
    first, last = initial or current, current or initial
    if last is None:
        return []
    found = re.fullmatch(r"(0|[1-9]\d*)((?:\.\d+){2}.*)?", version)
    major = int(found.group(1)) if found else 0
    suffix = ".0.0" if found and found.group(2) else ""
    if not 1 < major <= MAX_REVISIONS:
        date = first if found and major <= 1 else last
        return [{"date": date or last, "number": version, "summary": "Current version."}]
    earlier = [
        {
            "date": first or last,
            "number": f"{k}{suffix}",
            "summary": "Initial version." if k == 1 else f"Version {k}.",
        }
        for k in range(1, major)
    ]
    return [*earlier, {"date": last, "number": version, "summary": "Current version."}]


def _summary_note(vulnerability: str, statements: list[VexStatement]) -> dict[str, str]:
    """What the statements on one vulnerability say, in a sentence (CSAF 6.1.27.5)."""
    counts: dict[str, int] = {}
    for statement in statements:
        label = _SUMMARY[statement.status]
        if statement.justification:
            label += f" ({statement.justification})"
        counts[label] = counts.get(label, 0) + max(1, len(statement.products))
    parts = [f"{n} product{'s' if n != 1 else ''} {label}" for label, n in counts.items()]
    return {
        "category": "summary",
        "text": f"VEX status of {vulnerability}: {'; '.join(parts)}.",
        "title": "VEX status",
    }


def _vuln_entry(statement: VexStatement) -> dict[str, Any]:
    names = [statement.vulnerability, *statement.aliases]
    entry: dict[str, Any] = {}
    if _CVE.match(statement.vulnerability):
        entry["cve"] = names.pop(0)
    if names:
        entry["ids"] = [{"system_name": n.split("-", 1)[0] or "other", "text": n} for n in names]
    entry["product_status"] = {}
    return entry


class _Ids:
    """Product ids for the product tree: each product, subcomponent and pairing once."""

    def __init__(self) -> None:
        self.by_ref: dict[ProductRef, str] = {}
        self.used: set[str] = set()
        self.branches: dict[str, dict[str, Any]] = {}
        self.names: list[dict[str, Any]] = []
        self.relationships: list[dict[str, Any]] = []

    def products(self, product: ProductRef) -> list[str]:
        """The product's id, or one pairing id per subcomponent (read back as one product)."""
        top = self._one(product.base)
        if not product.subcomponents:
            return [top]
        pids = []
        for component in product.subcomponents:
            sub = self._one(component)
            pid = f"{top}:{sub}"
            pids.append(pid)
            if pid in self.used:
                continue
            self.used.add(pid)
            name = f"{sub} as a component of {top}"
            helper = _helper(component)  # what an SBOM of the product names the part by
            full = _clean(
                {"name": name, "product_id": pid, "product_identification_helper": helper}
            )
            self.relationships.append(
                {
                    "category": "default_component_of",
                    "full_product_name": full,
                    "product_reference": sub,
                    "relates_to_product_reference": top,
                }
            )
        return pids

    def _one(self, product: ProductRef) -> str:
        if product in self.by_ref:
            return self.by_ref[product]
        pid = product.id if product.id and product.id not in self.used else None
        n = len(self.used)
        while pid is None or pid in self.used:
            n += 1
            pid = f"CSAFPID-{n:04d}"
        self.used.add(pid)
        self.by_ref[product] = pid
        helper = _helper(product)
        name = product.name or product.purl or product.cpe or product.id or pid
        version = product.version or product.version_range
        full = _clean(
            {
                "name": f"{name} {version}" if version else name,
                "product_id": pid,
                "product_identification_helper": helper,
            }
        )
        if version:
            category = "product_version" if product.version else "product_version_range"
            branch = self.branches.setdefault(
                name, {"category": "product_name", "name": name, "branches": []}
            )
            branch["branches"].append({"category": category, "name": version, "product": full})
        else:
            self.names.append(full)
        return pid

    def tree(self) -> dict[str, Any]:
        return _clean(
            {
                "branches": list(self.branches.values()) or None,
                "full_product_names": self.names or None,
                "relationships": self.relationships or None,
            }
        )


def _helper(product: ProductRef) -> dict[str, str] | None:
    return _clean({"purl": product.purl, "cpe": product.cpe}) or None


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
