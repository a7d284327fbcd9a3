"""What the CSAF provider publishes: one CSAF 2.0 VEX document per published release whose
vendor published a VEX document (OpenVEX, CSAF or CycloneDX, converted), under the TLP:WHITE
directory (TLP 2.0's TLP:CLEAR; CSAF 2.0 still names it WHITE, and requirement 13 names the
folder after the label), with index.txt, changes.csv, SHA-256/512 files and OpenPGP signatures,
all listed in provider-metadata.json (CSAF 2.0 section 7)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from clearroom.server.catalog.models import Confidentiality, Document, Release
from clearroom.server.services import blob_store
from clearroom.server.vulnerabilities.models import Finding
from clearroom.vulns.severity import Score, score_vector
from clearroom.vulns.vex import VexError, load_vex
from clearroom.vulns.vex.csaf import dump, filename

TLP_FOLDER = "white"
MAX_DOCUMENTS = 10_000
MAX_SCORED = 10_000
"""Findings read per release for the scores of affected products."""


@dataclass(frozen=True)
class Advisory:
    path: str
    """Relative to the TLP folder: ``<year>/<filename>.json``."""
    body: bytes
    current_release_date: str
    release: Release

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _advisory(release: Release, vex: list[Document]) -> Advisory | None:
    p = release.product
    statements: list[Any] = []
    newest = release.published_at
    for document in vex:
        with blob_store().open_reader(document.sha256) as reader:
            data = b"".join(reader)
        try:
            parsed = load_vex(data)
        except VexError:
            continue  # the release page says the VEX could not be read
        statements.extend(parsed.statements)
        newest = max(filter(None, [newest, parsed.last_updated, parsed.timestamp]))
    if not statements or release.published_at is None or newest is None:
        return None
    from clearroom.vulns.vex import VexDocument, VexFormat

    tracking_id = f"clearroom-{p.vendor.slug}-{p.slug}-{release.version}-vex"
    merged = VexDocument(
        id=tracking_id,
        author=p.vendor.name,
        version="1",
        timestamp=release.published_at,
        last_updated=newest,
        statements=tuple(statements),
        format=VexFormat.CSAF,
    )
    namespace = p.vendor.website or settings.CONFIG.base_url
    path = f"{release.published_at.year}/{filename(tracking_id)}"
    csaf = dump(merged, namespace=namespace, canonical_url=url(path), lang="en", tlp="WHITE")
    csaf["document"]["title"] = f"VEX for {p.vendor.name} {p.name} {release.version}"
    _score_affected(release, csaf["vulnerabilities"])
    body = json.dumps(csaf, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    return Advisory(path, body, _time(newest), release)


def _score_affected(release: Release, vulnerabilities: list[dict[str, Any]]) -> None:
    """CSAF 6.2.3: the CVSS v3 base score of each vulnerability the vendor says affects its
    products, from the advisory the centre matched in the release's public SBOMs (VEX carries
    no score; CSAF 2.0 has no CVSS v4). Where the centre has none, the product has no score."""
    found = (
        Finding.objects.filter(
            release=release,
            resolved_at=None,
            component__sbom__document__confidentiality=Confidentiality.PUBLIC,
        )
        .exclude(vector="")
        .order_by("-score", "advisory_id")
        .values_list("advisory_id", "aliases", "vector")
    )
    by_name: dict[str, Score] = {}
    for advisory, aliases, vector in found[:MAX_SCORED]:
        score = score_vector(vector)
        if score.version in ("3.0", "3.1") and score.score is not None:
            for name in [advisory, *(a for a in aliases if isinstance(a, str))]:
                by_name.setdefault(name, score)
    for vulnerability in vulnerabilities:
        affected = vulnerability["product_status"].get("known_affected")
        names = [vulnerability.get("cve"), *(i["text"] for i in vulnerability.get("ids", []))]
        score = next((by_name[n] for n in names if n in by_name), None)
        if affected and score is not None and score.rating is not None:
            cvss_v3 = {
                "baseScore": score.score,
                "baseSeverity": score.rating,
                "vectorString": score.vector,
                "version": score.version,
            }
            vulnerability["scores"] = [{"cvss_v3": cvss_v3, "products": affected}]


def url(path: str = "") -> str:
    """The absolute URL of ``path`` in the TLP:WHITE folder (the folder itself by default)."""
    folder = reverse("csaf-folder", args=[TLP_FOLDER])
    return settings.CONFIG.base_url.rstrip("/") + folder + path


def advisories() -> list[Advisory]:
    """Every published release's advisory, newest change first."""
    public_vex = Document.objects.filter(
        kind=Document.Kind.VEX,
        confidentiality=Confidentiality.PUBLIC,
        release__state=Release.State.PUBLISHED,
    ).select_related("release__product__vendor")
    by_release: dict[int, tuple[Release, list[Document]]] = {}
    for document in public_vex.order_by("release_id", "name")[:MAX_DOCUMENTS]:
        by_release.setdefault(document.release_id, (document.release, []))[1].append(document)
    made = [a for r, docs in by_release.values() if (a := _advisory(r, docs)) is not None]
    return sorted(made, key=lambda a: (a.current_release_date, a.path), reverse=True)


def find(path: str) -> Advisory | None:
    return next((a for a in advisories() if a.path == path), None)
