"""Upload a large artifact through the API into the local store and compare the throughput with
this machine's hashing limit measured in the same run.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--record]

Baselines: OpenSSL's SHA-256 over the same file (``openssl dgst -sha256``) and hashlib's
(also OpenSSL). The server must hash every byte with SHA-256 and write it to disk, so the
faster baseline is the physical limit; the goal is a ratio of at least 0.6. The server's peak
RSS growth during the upload is read from /proc (goal: under 100 MB). ``--record`` writes the
table into docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import mmap
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import record, table
from _serve import serving

MiB = 1 << 20


def make_file(path: Path, size: int) -> None:
    with path.open("wb") as f:
        block = os.urandom(64 * MiB)
        written = 0
        while written < size:
            n = min(len(block), size - written)
            f.write(block[:n])
            written += n
            block = hashlib.sha512(block[:64]).digest() + block[64:]  # vary each block cheaply


def settle() -> None:
    """Flush earlier phases' dirty pages so their write-back does not slow the next phase."""
    os.sync()
    time.sleep(1)


def hashlib_sha256(path: Path) -> tuple[str, float]:
    settle()
    digest = hashlib.sha256()
    buffer = bytearray(MiB)
    view = memoryview(buffer)
    started = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest(), time.perf_counter() - started


def durable_write(source: Path, directory: Path) -> float:
    """The disk's limit: copy ``source`` into ``directory`` with direct I/O (1 MiB aligned writes,
    like ``dd oflag=direct``; buffered where unsupported), then fsync."""
    target = directory / "disk-baseline"
    settle()
    buffer = mmap.mmap(-1, MiB)  # page-aligned, as direct I/O requires
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    started = time.perf_counter()
    try:
        out = os.open(target, flags | getattr(os, "O_DIRECT", 0))
    except OSError:
        out = os.open(target, flags)
    with source.open("rb", buffering=0) as f:
        offset = 0
        while n := f.readinto(buffer):
            if n < MiB:  # the unaligned tail goes through the page cache
                os.close(out)
                out = os.open(target, os.O_WRONLY)
            offset += os.pwrite(out, memoryview(buffer)[:n], offset)
        os.fsync(out)
        os.close(out)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def store_ingest(source: Path, directory: Path) -> float:
    """The artifact store alone (hash + staged write + fsync + rename), no HTTP in between."""
    from clearroom.blobs import LocalBlobStore

    store = LocalBlobStore(directory / "ingest-baseline")
    settle()
    started = time.perf_counter()
    with source.open("rb") as f:
        info = store.put_stream(f)
    elapsed = time.perf_counter() - started
    shutil.rmtree(directory / "ingest-baseline", ignore_errors=True)
    assert info.size == source.stat().st_size
    return elapsed


def openssl_sha256(path: Path) -> float | None:
    if not shutil.which("openssl"):
        return None
    settle()
    started = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


def server_worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


def api(port: int, method: str, path: str, token: str, body: object = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(
        method, "/api" + path, body=json.dumps(body) if body is not None else None, headers=headers
    )
    response = conn.getresponse()
    data = json.loads(response.read() or b"null")
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data}")
    return data


def upload(port: int, token: str, release: str, path: Path, sha256: str) -> float:
    """PUT the file with the kernel's sendfile, so the client on this same machine takes as
    little CPU from the server as a client on another machine would."""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    head = (
        f"PUT /api{release}/artifacts/{path.name} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {path.stat().st_size}\r\n"
        f"Content-Digest: sha-256=:{digest}:\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock, path.open("rb") as f:
        started = time.perf_counter()
        sock.sendall(head)
        sock.sendfile(f)
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = response.read()
        elapsed = time.perf_counter() - started
    if response.status != 201:
        raise RuntimeError(f"upload failed: {response.status} {payload[:300]!r}")
    stored = json.loads(payload)
    assert stored["sha256"] == sha256, "server stored a different digest"
    return elapsed


def demo_token(env: dict[str, str]) -> str:
    """A fresh demo centre's maintainer token (the demo's vendor and product to upload to)."""
    seed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clearroom.cli import _django; _django.setup(); _django.migrate();"
            "from clearroom.server.demo import seed; print(seed().token)",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return seed.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument(
        "--record", action="store_true", help="write the result to docs/PERFORMANCE.md"
    )
    parser.add_argument(
        "--work-dir", default=None, help="where the data dir goes (default: system temp)"
    )
    args = parser.parse_args()
    size = args.size_mib * MiB
    work = Path(tempfile.mkdtemp(prefix="clearroom-bench-", dir=args.work_dir))
    data = work / "data"
    data.mkdir()
    env = {**os.environ, "CLEARROOM_DATA_DIR": str(data), "CLEARROOM_LOG_LEVEL": "WARNING"}
    times: dict[str, list[float]] = {
        k: [] for k in ("hashlib", "openssl", "disk", "ingest", "upload")
    }
    growth_mb: list[float] = []
    try:
        sample = work / "firmware.img"
        print(f"writing a {args.size_mib} MiB test file …", file=sys.stderr)
        make_file(sample, size)
        token = demo_token(env)
        with serving(env) as server:
            port, worker = server.port, server_worker_pid(server.pid)
            for run in range(args.runs):
                with sample.open("r+b") as f:  # new content each run: nothing is de-duplicated
                    f.write(os.urandom(32))
                sha256, _ = hashlib_sha256(sample)  # warms the page cache
                times["hashlib"].append(hashlib_sha256(sample)[1])
                times["openssl"].append(openssl_sha256(sample) or float("inf"))
                times["disk"].append(durable_write(sample, data))
                times["ingest"].append(store_ingest(sample, data))
                path = "/products/acme/edgerouter-x5/releases"
                release = api(port, "POST", path, token, {"version": f"bench-{run}"})["url"]
                rss_before = rss_kib(worker, "VmRSS")
                settle()
                times["upload"].append(
                    upload(port, token, release.removeprefix("/api"), sample, sha256)
                )
                growth_mb.append((rss_kib(worker, "VmHWM") - rss_before) * 1024 / 1e6)
                print(
                    f"run {run + 1}: upload {size / 1e9 / times['upload'][-1]:.2f} GB/s",
                    file=sys.stderr,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    gb = size / 1e9
    med = {k: statistics.median(v) for k, v in times.items()}
    limit_s = min(med["hashlib"], med["openssl"])
    ratio = limit_s / med["upload"]
    physical_ratio = max(limit_s, med["disk"]) / med["upload"]
    growth = max(growth_mb)

    def speed(key: str) -> str:
        values = times[key]
        return f"{gb / med[key]:.2f} GB/s ({gb / max(values):.2f} to {gb / min(values):.2f})"

    rows = [
        ("openssl dgst -sha256 (baseline)", speed("openssl"), ""),
        ("hashlib sha256 (baseline)", speed("hashlib"), ""),
        ("direct write + fsync into the data dir (disk limit)", speed("disk"), ""),
        ("artifact store ingest, no HTTP (baseline)", speed("ingest"), ""),
        ("API upload (PUT, SHA-256, fsync)", speed("upload"), ""),
        (
            "upload / hashing limit",
            f"{ratio:.2f}",
            "≥ 0.60 " + ("met" if ratio >= 0.6 else "MISSED"),
        ),
        ("upload / max(hashing, disk write)", f"{physical_ratio:.2f}", "the physical limit"),
        (
            "upload / store ingest",
            f"{med['ingest'] / med['upload']:.2f}",
            "what HTTP + Django cost",
        ),
        (
            "server peak RSS growth (worst run)",
            f"{growth:.1f} MB",
            "< 100 MB " + ("met" if growth < 100 else "MISSED"),
        ),
    ]
    markdown = table(rows, f"measure (median of {args.runs} runs, range)")
    print(markdown)
    if args.record:
        command = (
            f".venv/bin/python bench/upload.py --size-mib {args.size_mib}"
            f" --runs {args.runs} --record"
        )
        record("bench/upload.py", markdown, command)


if __name__ == "__main__":
    main()
