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
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def hashlib_sha256(path: Path) -> tuple[str, float]:
    digest = hashlib.sha256()
    buffer = bytearray(MiB)
    view = memoryview(buffer)
    started = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest(), time.perf_counter() - started


def openssl_sha256(path: Path) -> float | None:
    if not shutil.which("openssl"):
        return None
    started = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for {pid}")


def server_worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if children else master


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


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
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MiB)
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/octet-stream",
        "Content-Length": str(path.stat().st_size),
        "Content-Digest": f"sha-256=:{digest}:",
    }
    with path.open("rb") as body:
        started = time.perf_counter()
        conn.request("PUT", f"/api{release}/artifacts/{path.name}", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
    if response.status != 201:
        raise RuntimeError(f"upload failed: {response.status} {payload[:300]!r}")
    stored = json.loads(payload)
    assert stored["sha256"] == sha256, "server stored a different digest"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--record", action="store_true", help="write the result to docs/PERFORMANCE.md"
    )
    parser.add_argument(
        "--work-dir", default=None, help="where the data dir goes (default: the system temp dir)"
    )
    args = parser.parse_args()
    size = args.size_mib * MiB
    work = Path(tempfile.mkdtemp(prefix="clearroom-bench-", dir=args.work_dir))
    env = {
        **os.environ,
        "CLEARROOM_DATA_DIR": str(work / "data"),
        "CLEARROOM_LOG_LEVEL": "WARNING",
        "CLEARROOM_LOG_FORMAT": "text",
    }
    server = None
    try:
        sample = work / "firmware.img"
        print(f"writing a {args.size_mib} MiB test file …", file=sys.stderr)
        make_file(sample, size)
        sha256, hashlib_s = hashlib_sha256(sample)
        hashlib_s = min(hashlib_s, hashlib_sha256(sample)[1])  # second pass: page cache warm
        openssl_s = openssl_sha256(sample)

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
        token = seed.stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clearroom.cli.main",
                "serve",
                "--port",
                str(port),
                "--threads",
                "4",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wait_healthy(port)
        worker = server_worker_pid(server.pid)
        release = api(
            port, "POST", "/products/acme/edgerouter-x5/releases", token, {"version": "bench-1"}
        )["url"]
        release = release.removeprefix("/api")
        rss_before = rss_kib(worker, "VmRSS")
        upload_s = upload(port, token, release, sample, sha256)
        rss_peak = rss_kib(worker, "VmHWM")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    gb = size / 1e9
    limit_s = min(t for t in (hashlib_s, openssl_s) if t is not None)
    ratio = limit_s / upload_s
    growth_mb = (rss_peak - rss_before) * 1024 / 1e6
    rows = [
        (
            "openssl dgst -sha256 (baseline)",
            f"{gb / openssl_s:.2f} GB/s" if openssl_s else "n/a",
            "",
        ),
        ("hashlib sha256 (baseline)", f"{gb / hashlib_s:.2f} GB/s", ""),
        ("API upload (PUT, SHA-256, fsync)", f"{gb / upload_s:.2f} GB/s", ""),
        (
            "upload / hashing limit",
            f"{ratio:.2f}",
            "≥ 0.60 " + ("met" if ratio >= 0.6 else "MISSED"),
        ),
        (
            "server peak RSS growth",
            f"{growth_mb:.1f} MB",
            "< 100 MB " + ("met" if growth_mb < 100 else "MISSED"),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'measure':<{width}} | value | goal |", f"|{'-' * (width + 2)}|---|---|"]
    lines += [f"| {name:<{width}} | {value} | {goal} |" for name, value, goal in rows]
    table = "\n".join(lines)
    print(table)
    if args.record:
        record(table, args.size_mib)


def record(table: str, size_mib: int) -> None:
    doc = ROOT / "docs" / "PERFORMANCE.md"
    begin, end = "<!-- bench/upload.py begin -->", "<!-- bench/upload.py end -->"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    section = (
        f"{begin}\nMeasured {datetime.now(UTC):%Y-%m-%d} on {os.cpu_count()} cores of {cpu}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"command: `.venv/bin/python bench/upload.py --size-mib {size_mib} --record`"
        f"\n\n{table}\n{end}"
    )
    text = doc.read_text()
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text += "\n" + section + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
