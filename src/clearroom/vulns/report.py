"""A scan in the formats other tools read: SARIF 2.1.0 (code-scanning dashboards, DefectDojo)
and a CycloneDX 1.6 vulnerability disclosure report (VDR: the components with their
vulnerabilities and, where the vendor made one, its VEX analysis)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from clearroom import __version__
from clearroom.vulns.scan import ScanFinding, ScanResult
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


def to_sarif(result: ScanResult, sbom_uri: str) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in result.findings:
        if f.status in ("not_affected", "fixed"):
            continue  # SARIF lists problems; resolved ones are not
        advisory = f.finding.advisory_id
        rules.setdefault(advisory, _rule(f))
        results.append(
            {
                "ruleId": advisory,
                "level": _SARIF_LEVEL.get(f.rating, "warning"),
                "message": {"text": _message(f)},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": sbom_uri}},
                        "logicalLocations": [
                            {"name": f.finding.purl, "kind": "package"},
                        ],
                    }
                ],
                "properties": {"status": f.status, "aliases": list(f.finding.aliases)},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "clearroom",
                        "version": __version__,
                        "informationUri": "https://clearroom.dev/",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "properties": {"advisorySnapshot": result.snapshot},
            }
        ],
    }


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


def to_cyclonedx_vdr(result: ScanResult) -> dict[str, Any]:
    refs = {f.finding.component_ref for f in result.findings}
    components = [
        {
            "bom-ref": c.ref,
            "type": c.type or "library",
            "name": c.name,
            **({"version": c.version} if c.version else {}),
            **({"purl": c.purl} if c.purl else {}),
        }
        for c in result.sbom.components
        if c.ref in refs
    ]
    vulnerabilities: dict[str, dict[str, Any]] = {}
    for f in result.findings:
        entry = vulnerabilities.setdefault(f.finding.advisory_id, _vulnerability(f))
        entry["affects"].append({"ref": f.finding.component_ref})
        if f.vex is not None:
            entry["analysis"] = _analysis(f)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "clearroom"}]},
            "properties": [{"name": "clearroom:advisory-snapshot", "value": result.snapshot}],
        },
        "components": components,
        "vulnerabilities": list(vulnerabilities.values()),
    }


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
