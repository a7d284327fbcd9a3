"""``clearroom publish``: upload a release directory — every regular file in it — as a draft
release, then optionally publish it. Standard documents (SBOM, VEX, provenance, SARIF) are
recognised by their content and stored as documents; everything else is an artifact.
Re-running is safe: files already stored with the same digest are skipped; a different file
under the same name is an error."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearroom.cli.client import Client
from clearroom.errors import ClearroomError
from clearroom.sbom import detect


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    collection: str  # "artifacts" or "documents"
    kind: str
    confidential: bool
    size: int


def plan(directory: Path, confidential_patterns: list[str]) -> list[PlannedFile]:
    if not directory.is_dir():
        raise ClearroomError(f"publish: {directory} is not a directory")
    planned = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        kind = detect(path)  # SBOM, VEX, provenance and SARIF documents, by their content
        planned.append(
            PlannedFile(
                path=path,
                collection="documents" if kind else "artifacts",
                kind=kind.value if kind else "artifact",
                confidential=any(fnmatch.fnmatch(path.name, p) for p in confidential_patterns),
                size=path.stat().st_size,
            )
        )
    if not any(p.collection == "artifacts" for p in planned):
        raise ClearroomError(f"publish: {directory} holds no artifact (only documents or nothing)")
    return planned


def sha256_of(path: Path, on_progress: Any = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            if on_progress:
                on_progress(len(chunk))
    return digest.hexdigest()


def ensure_release(
    client: Client, org: str, product: str, version: str, notes: str
) -> dict[str, Any]:
    path = f"/products/{org}/{product}/releases/{version}"
    release = client.get_or_none(path)
    if release is None:
        release = client.request(
            "POST", f"/products/{org}/{product}/releases", json={"version": version, "notes": notes}
        )
    return release  # type: ignore[no-any-return]


def existing_files(release: dict[str, Any]) -> dict[tuple[str, str], str]:
    found = {}
    for collection in ("artifacts", "documents"):
        for f in release[collection]:
            found[(collection, f["name"])] = f["sha256"]
    return found
