"""The demo's security data: the firmware's SBOM (Alpine packages), the vendor's VEX, and a
small set of advisories written for the demo — clearly marked as demo data (ids DEMO-…,
summaries "[demo data] …"), so that vulnerabilities and a VEX decision show up out of the box
without network access. Never mistake them for real advisories."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from clearroom.server.vulnerabilities.services import import_advisories

APK = "pkg:apk/alpine/{}@{}?arch=aarch64&distro=3.19.1"
COMPONENTS = [
    ("busybox", "1.36.1-r15", "GPL-2.0-only"),
    ("openssl", "3.1.4-r5", "Apache-2.0"),
    ("dropbear", "2022.83-r4", "MIT"),
    ("linux-lts", "6.6.14-r0", "GPL-2.0-only"),
    ("zlib", "1.3.1-r0", "Zlib"),
]


def sbom(version: str, image_sha256: str) -> bytes:
    """The image's CycloneDX SBOM. Its serial number is a name-based UUID of the image (each
    SBOM its own, as CycloneDX asks, and the same on every seeding)."""
    serial = uuid.uuid5(
        uuid.NAMESPACE_URL, f"https://acme.example/sbom/edgerouter-x5-{version}/{image_sha256}"
    )
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-01T00:00:00Z",
            "component": {
                "type": "firmware",
                "name": "edgerouter-x5",
                "version": version,
                "supplier": {"name": "Acme Networks"},
                "hashes": [{"alg": "SHA-256", "content": image_sha256}],
            },
        },
        "components": [
            {
                "type": "library",
                "bom-ref": APK.format(name, v),
                "name": name,
                "version": v,
                "purl": APK.format(name, v),
                "supplier": {"name": "Alpine Linux"},
                "licenses": [{"license": {"id": lic}}],
            }
            for name, v, lic in COMPONENTS
        ],
        "dependencies": [
            {"ref": "firmware", "dependsOn": [APK.format(n, v) for n, v, _ in COMPONENTS]}
        ],
    }
    document["metadata"]["component"]["bom-ref"] = "firmware"  # type: ignore[index]
    return json.dumps(document, indent=2).encode()


def openvex(version: str) -> bytes:
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": f"https://acme.example/vex/edgerouter-x5-{version}",
        "author": "Acme Networks PSIRT",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2022-48174"},
                "products": [
                    {
                        "@id": f"pkg:generic/acme/edgerouter-x5@{version}",
                        "subcomponents": [{"@id": APK.format("busybox", "1.36.1-r15")}],
                    }
                ],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "The busybox shell is not reachable from any network service.",
            }
        ],
    }
    return json.dumps(document, indent=2).encode()


def _advisory(
    number: int, package: str, summary: str, events: list[dict[str, str]], vector: str, **extra: Any
) -> dict[str, Any]:
    return {
        "schema_version": "1.6.0",
        "id": f"DEMO-2026-{number:04d}",
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-11-01T00:00:00Z",
        "summary": f"[demo data] {summary}",
        "details": "Written for the Clearroom demo; not a real advisory.",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [
            {
                "package": {"ecosystem": "Alpine:v3.19", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


def demo_advisories() -> list[dict[str, Any]]:
    return [
        _advisory(
            1,
            "busybox",
            "stack overflow in the busybox shell's arithmetic",
            [{"introduced": "0"}, {"fixed": "1.36.1-r16"}],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            aliases=["CVE-2022-48174"],
        ),
        _advisory(
            2,
            "openssl",
            "excessive time spent checking DH parameters",
            [{"introduced": "3.1.0-r0"}, {"fixed": "3.1.5-r0"}],
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        ),
        _advisory(
            3,
            "dropbear",
            "channel handling flaw fixed long ago",
            [{"introduced": "0"}, {"fixed": "2022.83-r0"}],
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N",
        ),
        _advisory(
            4,
            "zlib",
            "heap over-read in inflateGetHeader with crafted extra fields",
            [{"introduced": "1.3-r0"}, {"fixed": "1.3.1-r1"}],
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:H",
        ),
    ]


def import_demo_advisories() -> None:
    """Load the demo advisories into the centre's advisory store (unchanged on a re-run)."""
    with tempfile.TemporaryDirectory() as folder:
        for record in demo_advisories():
            (Path(folder) / f"{record['id']}.json").write_text(json.dumps(record))
        import_advisories([folder])
