"""The terminal side of ``clearroom publish``: progress bars while hashing and uploading, then a
table (or JSON) of what the centre stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from clearroom.cli.client import Client
from clearroom.cli.publish import ensure_release, existing_files, plan, sha256_of
from clearroom.errors import ClearroomError


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def run(
    directory: Path,
    *,
    url: str,
    token: str,
    org: str,
    product: str,
    version: str,
    confidential: list[str],
    notes: str,
    publish: bool,
    as_json: bool,
    console: Console,
) -> None:
    files = plan(directory, confidential)
    quiet = as_json or not console.is_terminal
    with Client(url, token) as client:
        release = ensure_release(client, org, product, version, notes)
        if release["state"] != "draft" and not all(
            (f.collection, f.path.name) in existing_files(release) for f in files
        ):
            raise ClearroomError(
                f"publish: release {version} is {release['state']}; files can only be added to a"
                " draft. Publish a new version instead."
            )
        present = existing_files(release)
        release_path = f"/products/{org}/{product}/releases/{version}"
        results: list[dict[str, Any]] = []
        with _progress(console) as progress:
            total = sum(f.size for f in files)
            hashing = progress.add_task("hashing", total=total, visible=not quiet)
            digests = {
                f.path: sha256_of(f.path, lambda n: progress.advance(hashing, n)) for f in files
            }
            progress.remove_task(hashing)
            for f in files:
                sha256 = digests[f.path]
                known = present.get((f.collection, f.path.name))
                if known == sha256:
                    results.append(
                        {
                            "name": f.path.name,
                            "kind": f.kind,
                            "size": f.size,
                            "sha256": sha256,
                            "confidentiality": "confidential" if f.confidential else "public",
                            "status": "already stored",
                        }
                    )
                    continue
                if known is not None:
                    raise ClearroomError(
                        f"publish: {f.path.name} is already in the release with a different"
                        f" SHA-256 ({known}); a stored file is never replaced"
                    )
                task = progress.add_task(
                    f"uploading {f.path.name}", total=f.size, visible=not quiet
                )
                params = {"confidentiality": "confidential" if f.confidential else "public"}
                if f.collection == "documents":
                    params["kind"] = f.kind
                stored = client.upload(
                    release_path,
                    f.collection,
                    f.path,
                    sha256=sha256,
                    params=params,
                    on_progress=lambda n, task=task: progress.advance(task, n),
                )
                progress.remove_task(task)
                results.append({**stored, "status": "stored"})
        if publish and release["state"] == "draft":
            release = client.request("POST", f"{release_path}/publish")
        else:
            release = client.request("GET", release_path)
    if as_json:
        console.print_json(json.dumps({"release": release, "files": results}, default=str))
        return
    table = Table(title=f"{org}/{product} {version} — {release['state']}", title_justify="left")
    for column in ("file", "kind", "bytes", "sha256", "visibility", "status"):
        table.add_column(column, overflow="fold", justify="right" if column == "bytes" else "left")
    for r in results:
        table.add_row(
            r["name"], r["kind"], f"{r['size']:,}", r["sha256"], r["confidentiality"], r["status"]
        )
    console.print(table)
    console.print(f"Release: {url.rstrip('/')}/orgs/{org}/{product}/{version}/")
