"""OpenVEX v0.2.0 (JSON-LD) to and from the normalised model.

OpenVEX products carry identifiers (purl, CPE) but no name or version fields: a version held
apart from the purl is folded into the purl on export, and a bare name becomes the ``@id``.
"""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from ._internal import Reader, format_time
from .model import Justification, ProductRef, Status, VexDocument, VexFormat, VexStatement

CONTEXT = "https://openvex.dev/ns/v0.2.0"


def parse(document: dict[str, Any]) -> VexDocument:
    r = Reader("OpenVEX")
    timestamp = r.time(document, "timestamp", "document")
    last_updated = r.time(document, "last_updated", "document")
    inherited = last_updated or timestamp
    statements = []
    for i, raw in enumerate(r.items(document, "statements", "document")):
        where = f"statements[{i}]"
        statement = r.obj(raw, where)
        vulnerability, aliases = _vulnerability(r, statement, where)
        statements.append(
            VexStatement(
                vulnerability=vulnerability,
                aliases=aliases,
                products=tuple(
                    _product(r, p, f"{where}.products[{j}]")
                    for j, p in enumerate(r.items(statement, "products", where))
                ),
                status=_status(r, statement, where),
                justification=_justification(r, statement, where),
                impact_statement=r.text(statement, "impact_statement", where),
                action_statement=r.text(statement, "action_statement", where),
                timestamp=r.time(statement, "timestamp", where) or inherited,
            )
        )
    return VexDocument(
        id=r.text(document, "@id", "document"),
        author=r.text(document, "author", "document"),
        version=r.text(document, "version", "document"),
        timestamp=timestamp,
        last_updated=last_updated,
        statements=tuple(statements),
        format=VexFormat.OPENVEX,
        warnings=tuple(r.warnings),
    )


def _vulnerability(r: Reader, statement: dict[str, Any], where: str) -> tuple[str, tuple[str, ...]]:
    value = statement.get("vulnerability")
    if isinstance(value, str):  # OpenVEX v0.0.x: a bare identifier
        return value.strip(), ()
    vulnerability = r.obj(value, f"{where}.vulnerability")
    name = r.text(vulnerability, "name", f"{where}.vulnerability")
    aliases = tuple(
        a.strip()
        for a in r.items(vulnerability, "aliases", f"{where}.vulnerability")
        if isinstance(a, str) and a.strip()
    )
    return name or r.text(vulnerability, "@id", f"{where}.vulnerability") or "", aliases


def _status(r: Reader, statement: dict[str, Any], where: str) -> Status:
    value = r.text(statement, "status", where)
    try:
        return Status(value or "")
    except ValueError:
        allowed = ", ".join(Status)
        raise r.error(f"{where}.status is {value!r}; expected one of {allowed}") from None


def _justification(r: Reader, statement: dict[str, Any], where: str) -> Justification | None:
    value = r.text(statement, "justification", where)
    if value is None:
        return None
    try:
        return Justification(value)
    except ValueError:
        r.warn(f"{where}.justification {value!r} is not an OpenVEX justification; ignored")
        return None


def _product(r: Reader, value: Any, where: str) -> ProductRef:
    if isinstance(value, str):  # OpenVEX v0.0.x: a bare product IRI
        return ProductRef(id=value, purl=value if value.startswith("pkg:") else None)
    product = r.obj(value, where)
    ident = r.text(product, "@id", where)
    identifiers = r.obj(product.get("identifiers"), f"{where}.identifiers")
    purl = r.text(identifiers, "purl", f"{where}.identifiers")
    if purl is None and ident and ident.startswith("pkg:"):
        purl = ident
    cpe = r.text(identifiers, "cpe23", f"{where}.identifiers") or r.text(
        identifiers, "cpe22", f"{where}.identifiers"
    )
    return ProductRef(
        id=ident,
        purl=r.purl(purl, f"{where} purl"),
        cpe=cpe,
        subcomponents=tuple(
            _product(r, sub, f"{where}.subcomponents[{k}]")
            for k, sub in enumerate(r.items(product, "subcomponents", where))
        ),
    )


def dump(doc: VexDocument) -> dict[str, Any]:
    """The OpenVEX v0.2.0 JSON-LD document; statement timestamps equal to the inherited one
    are left out."""
    inherited = doc.last_updated or doc.timestamp
    version: int | str | None = doc.version
    if doc.version is not None and doc.version.isdigit():
        version = int(doc.version)
    out = {
        "@context": CONTEXT,
        "@id": doc.id,
        "author": doc.author,
        "timestamp": format_time(doc.timestamp),
        "last_updated": format_time(doc.last_updated),
        "version": version,
        "statements": [_dump_statement(s, inherited) for s in doc.statements],
    }
    return _clean(out)


def _dump_statement(statement: VexStatement, inherited: Any) -> dict[str, Any]:
    return _clean(
        {
            "vulnerability": _clean(
                {"name": statement.vulnerability, "aliases": list(statement.aliases) or None}
            ),
            "timestamp": (
                format_time(statement.timestamp) if statement.timestamp != inherited else None
            ),
            "products": [_dump_product(p) for p in statement.products],
            "status": str(statement.status),
            "justification": statement.justification and str(statement.justification),
            "impact_statement": statement.impact_statement,
            "action_statement": statement.action_statement,
        }
    )


def _dump_product(product: ProductRef) -> dict[str, Any]:
    purl = fold_version(product)
    identifiers: dict[str, str] = {}
    if purl:
        identifiers["purl"] = purl
    if product.cpe:
        identifiers["cpe23" if product.cpe.startswith("cpe:2.3:") else "cpe22"] = product.cpe
    ident = product.id
    if ident is None and not identifiers:
        ident = product.key
    return _clean(
        {
            "@id": ident,
            "identifiers": identifiers or None,
            "subcomponents": [_dump_product(s) for s in product.subcomponents] or None,
        }
    )


def fold_version(product: ProductRef) -> str | None:
    """The purl, with the product's separate version put in when the purl has none."""
    if not product.purl or not product.version:
        return product.purl
    try:
        parsed = PackageURL.from_string(product.purl)
    except ValueError:
        return product.purl
    if parsed.version:
        return product.purl
    values = parsed.to_dict()
    values["version"] = product.version
    return str(PackageURL(**values).to_string())


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}
