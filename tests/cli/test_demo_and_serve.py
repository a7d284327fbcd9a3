"""The README's first command for real: ``clearroom demo`` under gunicorn, then publishing to it
with ``clearroom publish`` and downloading what was published, and bad uploads against the
real server (the socket fast path)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import processes

pytestmark = pytest.mark.slow

BACKGROUND_BOUND = 300
"""Seconds allowed for the demo's background work (jobs, log checkpoints, cosignatures) to show:
a bound, not a goal. Its one job runner takes the queue a job at a time, each in a fresh process,
and on a loaded 2-core machine that was about 5 s a job, a dozen jobs queued ahead."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    return {**env, **extra}


def wait_healthy(base: str, process: subprocess.Popen, log, what: str = "the demo") -> None:
    """Until ``base``/healthz answers 200; fail with the server's output if it exits first
    or takes longer than a generous bound."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    log.seek(0)
    pytest.fail(f"{what} did not come up (exit status {process.poll()}):\n" + log.read())


@pytest.fixture(scope="module")
def demo_process(tmp_path_factory):
    """``clearroom demo`` with SIGINT and SIGTERM inherited ignored, in its own process group
    (stopped with it at the end of the module); yields (process, base URL, data dir, log)."""
    data_dir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    with (data_dir / "demo.log").open("w+") as log:
        command = [sys.executable, "-m", "clearroom.cli.main", "demo", "--port", str(port)]
        command += ["--data-dir", str(data_dir)]
        with processes.running(
            command, env=_clean_env(COLUMNS="200"), stdout=log, stderr=subprocess.STDOUT
        ) as process:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, process, log)
            yield process, base, data_dir, log


@pytest.fixture
def demo(demo_process):
    process, base, data_dir, log = demo_process
    if process.poll() is not None:
        pytest.fail("the demo has stopped")
    log.seek(0)
    token = re.search(r"clr_[0-9a-f]+_[A-Za-z0-9_-]+", log.read()).group(0)
    return base, token, data_dir


def test_the_demo_release_is_on_the_portal_with_its_digests(demo):
    base, _, _ = demo
    page = httpx.get(base + "/orgs/acme/edgerouter-x5/2.4.1/").text
    assert "EdgeRouter X5" in page and "2.4.1" in page
    release = httpx.get(base + "/api/products/acme/edgerouter-x5/releases/2.4.1").json()
    image = next(a for a in release["artifacts"] if a["name"].endswith(".img"))
    assert image["sha256"] in page
    assert httpx.get(base + "/static/portal/portal.css").status_code == 200


def test_the_demo_shows_three_parties_at_work_on_the_release(demo):
    """The regulator's evaluation and finding, the customer's question: seen by their parties
    through the API with the vendor's token, and the regulator's confidential read on the
    vendor's audit trail, which verifies against the log."""
    base, token, data_dir = demo
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as vendor:
        evaluations = sorted(vendor.get("/api/evaluations").json(), key=lambda e: e["evaluator"])
        finding = vendor.get(f"/api/findings/{evaluations[0]['findings'][0]}").json()
    assert [(e["evaluator"], e["state"]) for e in evaluations] == [
        ("national-cyber-agency", "accepted"),
        ("testlab-europe", "reported"),  # its rebuild matched: binary equivalence
    ]
    assert {v["requirement"] for v in evaluations[0]["verdicts"]} == {"iot-1.1", "iot-3.1"}
    assert evaluations[0]["catalogue"] == "open-iot-standards/iot-baseline@1.0"
    assert finding["status"] == "fix_planned" and finding["assignee"] == "expert"
    assert httpx.get(f"{base}/api/evaluations/{evaluations[0]['ref']}").status_code == 404
    deadline = time.monotonic() + BACKGROUND_BOUND
    while time.monotonic() < deadline:  # the lab's report counts once the log has it
        showcase = httpx.get(f"{base}/orgs/acme/-/showcase/?format=json").json()
        if showcase["releases_reproduced"]:
            break
        time.sleep(0.5)
    assert showcase["releases_reproduced"] == 1
    verified = subprocess.run(
        [sys.executable, "-m", "clearroom.cli.main", "audit", "verify", "--json"],
        env=_clean_env(CLEARROOM_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["records"] >= 1


def test_publish_then_download_round_trip(demo, tmp_path):
    base, token, _ = demo
    release_dir = tmp_path / "release"
    release_dir.mkdir()
    firmware = os.urandom(3 * 1024 * 1024 + 17)
    (release_dir / "router-9.9.9.img").write_bytes(firmware)
    (release_dir / "router-9.9.9.cdx.json").write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6"}'
    )
    (release_dir / "router-9.9.9-src.tar.gz").write_bytes(b"confidential sources")
    command = [
        sys.executable,
        "-m",
        "clearroom.cli.main",
        "publish",
        str(release_dir),
        "--url",
        base,
        "--token",
        token,
        "--product",
        "acme/edgerouter-x5",
        "--version",
        "9.9.9",
        "--confidential",
        "*-src.tar.gz",
        "--publish",
        "--json",
        "--receipts",
        str(tmp_path / "receipts"),
    ]
    result = subprocess.run(command, env=_clean_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["release"]["state"] == "published"
    # Every fact (the release and its three files) is logged, with a receipt saved beside it.
    indexes = [ref["index"] for ref in output["release"]["log"]]
    indexes += [f["log"]["index"] for f in output["release"]["artifacts"]]
    indexes += [f["log"]["index"] for f in output["release"]["documents"]]
    assert len(indexes) == 4 and None not in indexes
    saved = sorted(p.name for p in (tmp_path / "receipts").iterdir())
    assert saved == sorted(f"entry-{i}{s}" for i in indexes for s in (".json", ".tlog-proof"))
    kinds = {f["name"]: (f["kind"], f["confidentiality"]) for f in output["files"]}
    assert kinds == {
        "router-9.9.9.img": ("artifact", "public"),
        "router-9.9.9.cdx.json": ("sbom", "public"),
        "router-9.9.9-src.tar.gz": ("artifact", "confidential"),
    }
    url = (
        base + "/api/products/acme/edgerouter-x5/releases/9.9.9/artifacts/router-9.9.9.img/content"
    )
    downloaded = httpx.get(url).content
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(firmware).hexdigest()
    # anonymous users do not see the confidential archive
    assert httpx.get(url.replace("router-9.9.9.img", "router-9.9.9-src.tar.gz")).status_code == 404

    again = subprocess.run(command, env=_clean_env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert {f["status"] for f in json.loads(again.stdout)["files"]} == {"already stored"}


def test_publish_reports_a_bad_token_without_a_traceback(demo, tmp_path):
    base, _, _ = demo
    (tmp_path / "fw.img").write_bytes(b"x")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "clearroom.cli.main",
            "publish",
            str(tmp_path),
            "--url",
            base,
            "--token",
            "clr_000000000000_nope",
            "--product",
            "acme/edgerouter-x5",
            "--version",
            "1.0",
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "unknown or wrong token" in result.stderr
    assert "Traceback" not in result.stderr


def _raw_put(
    base: str, token: str, path: str, body: bytes, declared_length: int, sha256: str
) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"PUT {path}?sha256={sha256} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {declared_length}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        if len(body) < declared_length:
            sock.shutdown(socket.SHUT_WR)  # the client gives up half-way
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def _draft(base: str, token: str, version: str) -> str:
    response = httpx.post(
        base + "/api/products/acme/edgerouter-x5/releases",
        json={"version": version},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return "/api/products/acme/edgerouter-x5/releases/" + version


def _stored_files(data_dir: Path) -> set[Path]:
    return {p for p in (data_dir / "blobs").rglob("*") if p.is_file()}


def test_real_server_rejects_a_wrong_digest_and_a_truncated_body_leaving_nothing(demo):
    base, token, data_dir = demo
    release = _draft(base, token, "7.0.0")
    before = _stored_files(data_dir)
    body = os.urandom(2 * 1024 * 1024)
    wrong = _raw_put(base, token, release + "/artifacts/a.img", body, len(body), "0" * 64)
    assert b" 422 " in wrong.split(b"\r\n")[0] and b"digest-mismatch" in wrong
    truncated = _raw_put(
        base,
        token,
        release + "/artifacts/b.img",
        body[:100_000],
        len(body),
        hashlib.sha256(body).hexdigest(),
    )
    assert b" 422 " in truncated.split(b"\r\n")[0] and b"body ended" in truncated
    assert _stored_files(data_dir) == before
    assert httpx.get(base + "/healthz").status_code == 200
    good = _raw_put(
        base, token, release + "/artifacts/c.img", body, len(body), hashlib.sha256(body).hexdigest()
    )
    assert b" 201 " in good.split(b"\r\n")[0]


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearroom.cli.main", *args],
        env=_clean_env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _cosigned_log(base: str, at_least: int) -> dict:
    """The demo log's state once a witness-cosigned checkpoint covers ``at_least`` entries."""
    deadline = time.monotonic() + BACKGROUND_BOUND
    while time.monotonic() < deadline:
        info = httpx.get(base + "/api/log").json()
        if info["size"] >= at_least and info["waiting"] == 0 and info["cosignatures"]:
            return info
        time.sleep(0.2)
    pytest.fail(f"the demo log did not reach a cosigned size {at_least}: {info}")


def test_a_monitor_verifies_the_demo_log_and_the_witness_beside_it_cosigns(demo, tmp_path):
    base, token, _ = demo
    info = _cosigned_log(base, 5)  # the seeded release: 1 release fact + 4 files
    key = httpx.get(base + "/log/key").text.strip()
    assert key == info["verifier_key"]
    witness_key = info["witnesses"][0]["verifier_key"]
    state = tmp_path / "monitor.json"
    monitor = ["log", "monitor", base + "/log/", "--key", key, "--cosigner", witness_key]
    monitor += ["--state", str(state), "--json"]
    first = _cli(*monitor)
    assert first.returncode == 0, first.stdout + first.stderr
    assert json.loads(first.stdout)["size"] >= 5

    # A new publication grows the log; the monitor checks the new checkpoint extends the old.
    release = _draft(base, token, "7.1.0")
    body = b"firmware 7.1.0"
    response = httpx.put(
        f"{base}{release}/artifacts/fw-7.1.0.img?sha256={hashlib.sha256(body).hexdigest()}",
        content=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    published = httpx.post(
        base + release + "/publish", headers={"Authorization": f"Bearer {token}"}
    )
    assert published.status_code == 200, published.text
    grown = _cosigned_log(base, info["size"] + 2)
    second = _cli(*monitor)
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["size"] == grown["size"]

    # The artifact's receipt verifies offline with the `clearroom log verify` command.
    fact = httpx.get(f"{base}{release}").json()["artifacts"][0]["log"]
    entry = httpx.get(base + fact["url"]).json()
    (tmp_path / "entry.json").write_bytes(base64.b64decode(entry["entry_base64"]))
    (tmp_path / "fact.tlog-proof").write_text(entry["receipt"])
    verified = _cli(
        "log",
        "verify",
        str(tmp_path / "fact.tlog-proof"),
        "--entry",
        str(tmp_path / "entry.json"),
        "--key",
        key,
        "--cosigner",
        witness_key,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "cosigned by demo-witness" in verified.stdout


def test_a_release_signed_from_the_cli_verifies_on_another_machine(demo, tmp_path):
    base, token, data_dir = demo
    release_dir = tmp_path / "release"
    release_dir.mkdir()
    firmware = os.urandom(256 * 1024)
    (release_dir / "router-8.0.0.img").write_bytes(firmware)
    published = _cli(
        "publish",
        str(release_dir),
        "--url",
        base,
        "--token",
        token,
        "--product",
        "acme/edgerouter-x5",
        "--version",
        "8.0.0",
        "--sign-with",
        str(data_dir / "demo-vendor-key.pem"),
        "--publish",
    )
    assert published.returncode == 0, published.stdout + published.stderr
    _cosigned_log(base, 1)  # the publication is sequenced and cosigned

    # A second machine holds only the artifact, the bundle and the policy.
    machine = tmp_path / "second-machine"
    machine.mkdir()
    api = base + "/api/products/acme/edgerouter-x5/releases/8.0.0"
    (machine / "router.img").write_bytes(
        httpx.get(api + "/artifacts/router-8.0.0.img/content").content
    )
    (machine / "release.bundle.json").write_bytes(httpx.get(api + "/bundle").content)
    (machine / "policy.toml").write_bytes((data_dir / "demo-policy.toml").read_bytes())

    def verify(artifact="router.img", bundle="release.bundle.json"):
        return _cli(
            "verify",
            str(machine / artifact),
            "--bundle",
            str(machine / bundle),
            "--policy",
            str(machine / "policy.toml"),
            "--state",
            str(machine / "state"),
            "--json",
        )

    ok = verify()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["release"] == "acme/edgerouter-x5@8.0.0"
    (machine / "changed.img").write_bytes(firmware[:-1] + bytes([firmware[-1] ^ 1]))
    assert verify(artifact="changed.img").returncode == 10
    doc = json.loads((machine / "release.bundle.json").read_bytes())
    envelope = doc["attestations"][0]["envelope"]
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["predicate"]["release"]["version"] = "8.0.1"
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    (machine / "tampered.bundle.json").write_text(json.dumps(doc))
    tampered = verify(bundle="tampered.bundle.json")
    assert tampered.returncode == 11, tampered.stdout


def _vulnerabilities(base: str, predicate, what: str) -> dict:
    url = base + "/api/products/acme/edgerouter-x5/releases/2.4.1/vulnerabilities?status=all"
    deadline = time.monotonic() + BACKGROUND_BOUND
    while time.monotonic() < deadline:
        doc = httpx.get(url).json()
        if predicate(doc):
            return doc
        time.sleep(0.3)
    pytest.fail(f"the demo never showed {what}: {doc}")


def test_the_demo_shows_vulnerabilities_a_vex_decision_and_re_evaluates_on_import(demo, tmp_path):
    base, _, data_dir = demo
    doc = _vulnerabilities(base, lambda d: len(d["findings"]) >= 3, "its findings")
    status = {f["advisory"]: f["status"] for f in doc["findings"]}
    assert status["DEMO-2026-0001"] == "not_affected"  # the vendor's VEX decided it
    assert status["DEMO-2026-0002"] == "affected"
    evaluations = len(doc["history"])
    advisory = {
        "schema_version": "1.6.0",
        "id": "DEMO-2026-0099",
        "modified": "2026-11-20T00:00:00Z",
        "summary": "[demo data] a new dropbear flaw",
        "affected": [
            {
                "package": {"ecosystem": "Alpine:v3.19", "name": "dropbear"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    (tmp_path / "new.json").write_text(json.dumps(advisory))
    imported = subprocess.run(
        [sys.executable, "-m", "clearroom.cli.main", "vulns", "import", "--from", str(tmp_path)],
        env=_clean_env(CLEARROOM_DATA_DIR=str(data_dir), COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    assert "1 packages changed, 1 releases queued" in imported.stdout
    after = _vulnerabilities(
        base,
        lambda d: "DEMO-2026-0099" in {f["advisory"] for f in d["findings"]},
        "the new advisory's finding",
    )
    assert len(after["history"]) == evaluations + 1


def test_the_printed_monitor_command_keeps_state_so_the_next_run_checks_consistency(demo):
    """The demo prints a `clearroom log monitor` command with a --state file in its data dir:
    run twice, the second run proves the log it sees extends the one the first verified
    (without state every run would trust the log anew and never see a fork)."""
    base, _, data_dir = demo
    _cosigned_log(base, 5)
    printed = (data_dir / "demo.log").read_text()
    line = next(x.strip() for x in printed.splitlines() if " log monitor " in x)
    argv = shlex.split(line)
    assert argv[0] == "clearroom" and "--state" in argv, line
    state = Path(argv[argv.index("--state") + 1])
    assert state.parent == data_dir
    runs = [_cli(*argv[1:], "--json") for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["previous_size"] is None
    assert second["previous_size"] == first["size"] and second["size"] >= first["size"]
    assert json.loads(state.read_text())  # the last verified checkpoint, kept


def test_the_demo_stops_on_sigterm_inherited_ignored_leaving_no_witness_or_gpg_agent(
    demo_process,
):
    """Started with SIGINT and SIGTERM ignored (as from a background shell), the demo still
    stops on SIGTERM: exit 0, no traceback, its witness stopped with it, and no gpg-agent of
    the CSAF signing left running. (Runs last: it stops the module's demo.)"""
    process, base, data_dir, log = demo_process
    metadata = httpx.get(base + "/.well-known/csaf/provider-metadata.json")
    assert metadata.status_code == 200  # the CSAF key is made, and so an agent was started
    stopped = processes.stop(process)
    log.seek(0)
    output = log.read()
    assert stopped.returncode == 0, output
    assert not stopped.killed, "the demo or its witness ignored SIGTERM"
    assert "Traceback" not in output
    assert processes.gpg_agents(data_dir / "csaf-gnupg") == []
