"""A scan in the formats other tools read: SARIF 2.1.0 (code-scanning dashboards, DefectDojo)
and a CycloneDX 1.6 vulnerability disclosure report (VDR: the components with their
vulnerabilities and, where the vendor made one, its VEX analysis), and our own JSON.

Each ``write_*`` writes findings as they come from a :class:`~clearroom.vulns.scan.ScanRun`,
so a scan's memory does not grow with the number of its findings; ``to_*`` build the same
documents in memory from a finished :class:`~clearroom.vulns.scan.ScanResult`."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from clearroom import __version__
from clearroom.sbom.model import Sbom
from clearroom.vulns.scan import ScanFinding, ScanResult, ScanRun
from clearroom.vulns.vex import Justification
from clearroom.vulns.vex.cyclonedx import EXPORT_JUSTIFICATIONS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# VEX status → CycloneDX analysis state (the service's export uses it too, through
# cyclonedx_analysis, so both speak the same mapping).
CDX_STATE = {
    "not_affected": "not_affected",
    "affected": "exploitable",
    "fixed": "resolved",
    "under_investigation": "in_triage",
}


def write_json(run: ScanRun, out: TextIO) -> None:
    """``ScanResult.to_dict()``'s document, each finding written as it comes (the totals,
    known only at the end, come after the findings)."""
    _stream_object(out, run.head(), "findings", (f.to_dict() for f in run.findings()), run.summary)


def write_sarif(findings: Iterable[ScanFinding], snapshot: str, sbom_uri: str, out: TextIO) -> None:
    """SARIF 2.1.0, results written as they come; the rules (one per advisory met, so bounded
    by the advisory store, not by the findings) follow them."""
    rules: dict[str, dict[str, Any]] = {}

    def results() -> Iterator[dict[str, Any]]:
        for f in findings:
            if f.status in ("not_affected", "fixed"):
                continue  # SARIF lists problems; resolved ones are not
            rules.setdefault(f.finding.advisory_id, _rule(f))
            yield _result(f, sbom_uri)

    def tool() -> dict[str, Any]:
        driver = {
            "name": "clearroom",
            "version": __version__,
            "informationUri": "https://clearroom.dev/",
            "rules": list(rules.values()),
        }
        return {"tool": {"driver": driver}, "properties": {"advisorySnapshot": snapshot}}

    out.write(f'{{"$schema": {json.dumps(SARIF_SCHEMA)}, "version": "2.1.0", "runs": [\n')
    _stream_object(out, {}, "results", results(), tool)
    out.write("]}\n")


def to_sarif(result: ScanResult, sbom_uri: str) -> dict[str, Any]:
    buffer = io.StringIO()
    write_sarif(result.findings, result.snapshot, sbom_uri, buffer)
    loaded: dict[str, Any] = json.loads(buffer.getvalue())
    return loaded


def _result(f: ScanFinding, sbom_uri: str) -> dict[str, Any]:
    return {
        "ruleId": f.finding.advisory_id,
        "level": _SARIF_LEVEL.get(f.rating, "warning"),
        "message": {"text": _message(f)},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": sbom_uri}},
                "logicalLocations": [{"name": f.finding.purl, "kind": "package"}],
            }
        ],
        "properties": {"status": f.status, "aliases": list(f.finding.aliases)},
    }


def _stream_object(
    out: TextIO,
    head: dict[str, Any],
    key: str,
    items: Iterable[Any],
    tail: Callable[[], dict[str, Any]],
) -> None:
    """A JSON object: ``head``'s members, then ``key`` with ``items`` written one by one,
    then ``tail()``'s members (called after the items, when totals are known)."""
    out.write("{\n")
    for name, value in head.items():
        out.write(f"  {json.dumps(name)}: {_indented(value)},\n")
    out.write(f"  {json.dumps(key)}: [")
    separator = "\n    "
    for item in items:
        out.write(separator + json.dumps(item, default=str))
        separator = ",\n    "
    out.write("]" if separator == "\n    " else "\n  ]")
    for name, value in tail().items():
        out.write(f",\n  {json.dumps(name)}: {_indented(value)}")
    out.write("\n}\n")


def _indented(value: Any) -> str:
    return json.dumps(value, indent=2, default=str).replace("\n", "\n  ")


def _rule(f: ScanFinding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f.finding.advisory_id,
        "shortDescription": {"text": f.finding.summary or f.finding.advisory_id},
        "helpUri": f"https://osv.dev/vulnerability/{f.finding.advisory_id}",
    }
    score = f.finding.severity
    if score is not None and score.score is not None:
        rule["properties"] = {"security-severity": f"{score.score:.1f}"}
    return rule


def _message(f: ScanFinding) -> str:
    fixed = ", ".join(f.finding.fixed_versions) or "no fixed version known"
    text = (
        f"{f.finding.component_name} {f.finding.component_version} is affected by"
        f" {f.finding.advisory_id} ({f.rating}); fixed in: {fixed}"
    )
    if f.status == "unknown":
        text += f". Undecided: {f.finding.reason}"
    return text


def write_cyclonedx_vdr(
    findings: Iterable[ScanFinding], sbom: Sbom, snapshot: str, out: TextIO
) -> None:
    """A CycloneDX 1.6 VDR written as findings come: one vulnerability entry per finding
    (an advisory that affects several components appears once per component, each with its
    own VEX analysis), then the affected components (bounded by the SBOM)."""
    refs: set[str] = set()

    def vulnerabilities() -> Iterator[dict[str, Any]]:
        for f in findings:
            refs.add(f.finding.component_ref)
            entry = _vulnerability(f)
            entry["affects"].append({"ref": f.finding.component_ref})
            if f.vex is not None:
                entry["analysis"] = _analysis(f)
            yield entry

    def components() -> dict[str, Any]:
        return {
            "components": [
                {
                    "bom-ref": c.ref,
                    "type": c.type or "library",
                    "name": c.name,
                    **({"version": c.version} if c.version else {}),
                    **({"purl": c.purl} if c.purl else {}),
                }
                for c in sbom.components
                if c.ref in refs
            ]
        }

    head = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "clearroom"}]},
            "properties": [{"name": "clearroom:advisory-snapshot", "value": snapshot}],
        },
    }
    _stream_object(out, head, "vulnerabilities", vulnerabilities(), components)


def to_cyclonedx_vdr(result: ScanResult) -> dict[str, Any]:
    buffer = io.StringIO()
    write_cyclonedx_vdr(result.findings, result.sbom, result.snapshot, buffer)
    loaded: dict[str, Any] = json.loads(buffer.getvalue())
    return loaded


def _vulnerability(f: ScanFinding) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": f.finding.advisory_id,
        "source": {"name": "OSV", "url": f"https://osv.dev/vulnerability/{f.finding.advisory_id}"},
        "references": [{"id": alias, "source": {"name": "alias"}} for alias in f.finding.aliases],
        "description": f.finding.summary,
        "affects": [],
    }
    score = f.finding.severity
    if score is not None and score.score is not None:
        method = {"3.0": "CVSSv3", "3.1": "CVSSv31", "4.0": "CVSSv4", "2.0": "CVSSv2"}
        entry["ratings"] = [
            {
                "score": score.score,
                "severity": (score.rating or "unknown").lower(),
                "method": method.get(score.version, "other"),
                "vector": score.vector,
            }
        ]
    if f.finding.fixed_versions:
        entry["recommendation"] = "Upgrade to " + " or ".join(f.finding.fixed_versions)
    return entry


def _analysis(f: ScanFinding) -> dict[str, Any]:
    assert f.vex is not None
    return cyclonedx_analysis(
        f.vex.status, f.vex.justification, f.vex.impact_statement, f.vex.action_statement
    )


def cyclonedx_analysis(
    status: str, justification: str | None, impact: str | None, action: str | None
) -> dict[str, Any]:
    """A CycloneDX ``analysis`` of a VEX decision: the state, the justification in CycloneDX's
    words (the VEX writer's mapping, which reads back to the same CISA label) and the impact
    statement - or, where there is none, the action statement - as ``detail``. A justification
    that is not a CISA one is left out rather than guessed."""
    analysis: dict[str, Any] = {"state": CDX_STATE.get(status, "in_triage")}
    label = _justification(justification)
    if label is not None:
        analysis["justification"] = EXPORT_JUSTIFICATIONS[label]
    detail = impact or action
    if detail:
        analysis["detail"] = detail
    return analysis


def _justification(value: str | None) -> Justification | None:
    try:
        return Justification(value) if value else None
    except ValueError:
        return None
