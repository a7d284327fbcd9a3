"""The terminal side of ``clearroom publish``: progress bars while hashing and uploading, then a
table (or JSON) of what the centre stored and where each fact is in its transparency log, and
optionally every fact's receipt for offline proof of publication."""

from __future__ import annotations

import base64
import json
import time
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
    receipts: Path | None = None,
    sign_with: Path | None = None,
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
        if sign_with is not None and release["state"] == "draft":
            from clearroom.cli.sign import load_signer, manifest_statement, sign_statement

            statement = manifest_statement(directory, org, product, version, confidential)
            client.request(
                "POST",
                f"{release_path}/attestations",
                content=sign_statement(statement, load_signer(sign_with)),
                headers={"Content-Type": "application/json"},
            )
        if publish and release["state"] == "draft":
            client.request("POST", f"{release_path}/publish")
            release = wait_until_logged(client, release_path)
        else:
            release = client.request("GET", release_path)
        if receipts is not None:
            save_receipts(client, release, receipts)
    if as_json:
        console.print_json(json.dumps({"release": release, "files": results}, default=str))
        return
    table = Table(title=f"{org}/{product} {version} — {release['state']}", title_justify="left")
    for column in ("file", "kind", "bytes", "sha256", "visibility", "status", "log"):
        table.add_column(column, overflow="fold", justify="right" if column == "bytes" else "left")
    logged = {(f["name"], f["kind"]): f.get("log") for f in _files(release)}
    for r in results:
        ref = logged.get((r["name"], r["kind"]))
        table.add_row(
            r["name"],
            r["kind"],
            f"{r['size']:,}",
            r["sha256"],
            r["confidentiality"],
            r["status"],
            _index(ref),
        )
    console.print(table)
    for ref in release.get("log", []):
        console.print(f"Logged: {ref['fact']} {_index(ref)}", highlight=False)
    if receipts is not None:
        console.print(f"Receipts (C2SP tlog-proof) and entries saved in {receipts}/")
    console.print(f"Release: {url.rstrip('/')}/orgs/{org}/{product}/{version}/")


def _files(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [*release.get("artifacts", []), *release.get("documents", [])]


def _index(ref: dict[str, Any] | None) -> str:
    if ref is None:
        return "-"
    return "pending" if ref["index"] is None else f"#{ref['index']}"


def _refs(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [*release.get("log", []), *(f["log"] for f in _files(release) if f.get("log"))]


def wait_until_logged(client: Client, release_path: str, timeout: float = 20.0) -> Any:
    """The release once the log has given every fact of it an index and a checkpoint covers
    them (or after ``timeout``: facts are committed either way, only not yet sequenced)."""
    deadline = time.monotonic() + timeout
    while True:
        release = client.request("GET", release_path)
        refs = _refs(release)
        if all(ref["index"] is not None for ref in refs):
            size = client.request("GET", "/log")["size"]
            if all(ref["index"] < size for ref in refs):
                return release
        if time.monotonic() > deadline:
            return release
        time.sleep(0.25)


def save_receipts(client: Client, release: dict[str, Any], folder: Path) -> None:
    """Each fact's exact entry bytes and its receipt, for offline proof of publication."""
    folder.mkdir(parents=True, exist_ok=True)
    for ref in _refs(release):
        if ref["index"] is None:
            raise ClearroomError(
                "publish: the log has not sequenced every fact yet; run again with --receipts"
                " in a moment"
            )
        entry = client.request("GET", ref["url"].removeprefix("/api"))
        if entry["receipt"] is None:
            raise ClearroomError("publish: no checkpoint covers the facts yet; try again shortly")
        stem = folder / f"entry-{ref['index']}"
        stem.with_suffix(".json").write_bytes(base64.b64decode(entry["entry_base64"]))
        stem.with_suffix(".tlog-proof").write_text(entry["receipt"])
