"""CISA "Minimum Requirements for VEX": what a document must carry before it is accepted.

Each problem says what to add, in the words of the document's own format.
"""

from __future__ import annotations

from .model import Justification, Status, VexDocument, VexFormat

_WHERE = {
    VexFormat.OPENVEX: {
        "id": "@id",
        "version": "version",
        "author": "author",
        "timestamp": "timestamp",
        "product": "products[] (@id or identifiers.purl/cpe23)",
        "vulnerability": "vulnerability.name",
        "justification": "justification",
        "impact": "impact_statement",
        "action": "action_statement",
    },
    VexFormat.CSAF: {
        "id": "document.tracking.id",
        "version": "document.tracking.version",
        "author": "document.publisher.name",
        "timestamp": "document.tracking.initial_release_date",
        "product": "product ids in vulnerabilities[].product_status",
        "vulnerability": "vulnerabilities[].cve or ids[]",
        "justification": "flags[].label",
        "impact": "a threats[] entry of category impact",
        "action": "remediations[].details",
    },
    VexFormat.CYCLONEDX: {
        "id": "serialNumber",
        "version": "version",
        "author": "metadata.authors[].name",
        "timestamp": "metadata.timestamp",
        "product": "affects[].ref",
        "vulnerability": "vulnerabilities[].id",
        "justification": "analysis.justification",
        "impact": "analysis.detail",
        "action": "recommendation",
    },
}


def check_minimum(doc: VexDocument) -> list[str]:
    """The CISA minimum elements ``doc`` lacks, as messages saying what to add; empty when
    the document is complete."""
    where = _WHERE[doc.format]
    problems = [
        f"document: add a document id ({where['id']})" if not doc.id else "",
        f"document: add a document version ({where['version']})" if not doc.version else "",
        f"document: add the author ({where['author']})" if not doc.author else "",
        f"document: add the time it was issued ({where['timestamp']})" if not doc.timestamp else "",
    ]
    if not doc.statements:
        problems.append("document: add at least one statement")
    for n, statement in enumerate(doc.statements, 1):
        label = (
            f"statement {n} ({statement.vulnerability or 'no vulnerability'}, {statement.status})"
        )
        if not statement.vulnerability:
            problems.append(
                f"{label}: add the vulnerability id, e.g. a CVE ({where['vulnerability']})"
            )
        if not any(p.key for p in statement.products):
            problems.append(f"{label}: add the product it is about ({where['product']})")
        if statement.status is Status.NOT_AFFECTED and not (
            statement.justification or statement.impact_statement
        ):
            labels = ", ".join(Justification)
            problems.append(
                f"{label}: add a justification ({where['justification']}: one of {labels})"
                f" or an impact statement ({where['impact']}) saying why it is not affected"
            )
        if statement.status is Status.AFFECTED and not statement.action_statement:
            problems.append(
                f"{label}: add an action statement ({where['action']}) saying what users should do"
            )
    return [p for p in problems if p]
