"""Jobs: parse an SBOM once it is uploaded, and (re-)evaluate a release's components. Each run
in a child process with a time limit (the jobs runner's), which is where untrusted SBOMs are
parsed."""

from __future__ import annotations

from typing import Any

from clearroom.jobs import job
from clearroom.server.catalog.models import Document, Release
from clearroom.server.vulnerabilities import services


def _ingest_failed(*, error: str, document: int) -> None:
    services.ingest_failed(document, error)


@job("sbom.ingest", max_attempts=3, timeout=900, on_failure=_ingest_failed)
def ingest(*, document: int) -> dict[str, Any] | None:
    found = Document.objects.filter(pk=document, kind=Document.Kind.SBOM).first()
    if found is None:
        return None
    parsed = services.ingest_sbom(found)
    return {"components": parsed.components, "error": parsed.error or None}


@job("vulns.evaluate", max_attempts=3, timeout=900)
def evaluate(*, release: int, packages: list[list[str]] | None = None) -> dict[str, Any] | None:
    found = Release.objects.filter(pk=release).first()
    if found is None:
        return None
    wanted = None if packages is None else [(p[0], p[1]) for p in packages]
    evaluation = services.evaluate(found, wanted)
    return {"snapshot": evaluation.snapshot, "new": evaluation.new_findings}
