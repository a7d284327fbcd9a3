"""`clearroom verify` as a user runs it: a separate process, files on disk, exit codes."""

from __future__ import annotations

import http.server
import json
import socketserver
import subprocess
import sys
import threading

import pytest

from clearroom.attest.keys import FileSigner
from tests.attest.centre import FIRMWARE, Centre, manifest_for, sign


@pytest.fixture
def release(tmp_path):
    centre = Centre(tmp_path / "centre")
    try:
        signed = centre.log(sign(manifest_for(), centre.vendor))
        by_another_key = centre.log(sign(manifest_for(), FileSigner.generate()))
        bundle, other = centre.bundle([signed]), centre.bundle([by_another_key])
        unstated = centre.bundle([signed], status=False)  # a withdrawal could hide here
    finally:
        centre.close()
    machine = tmp_path / "second-machine"
    machine.mkdir()
    (machine / "router.img").write_bytes(FIRMWARE)
    (machine / "release.bundle.json").write_bytes(bundle.to_json())
    (machine / "other.bundle.json").write_bytes(other.to_json())
    (machine / "unstated.bundle.json").write_bytes(unstated.to_json())
    vendor_pem, centre_pem = centre.vendor.public_key.to_pem(), centre.key.public_key.to_pem()
    (machine / "policy.toml").write_text(
        f'[log]\norigin = "{centre.name}"\nkey = "{centre.log_vkey}"\n\n'
        f'[vendor]\norganisation = "acme"\nkeys = ["""{vendor_pem}"""]\n'
        f'centre_keys = ["""{centre_pem}"""]\n'
    )
    return machine


def _verify(machine, *args, bundle="release.bundle.json", artifact="router.img"):
    command = [sys.executable, "-m", "clearroom.cli.entry", "verify", str(machine / artifact)]
    command += ["--bundle", str(machine / bundle), "--policy", str(machine / "policy.toml")]
    command += ["--state", str(machine / "state"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_verify_passes_with_only_the_bundle_the_artifact_and_the_policy(release):
    result = _verify(release)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED" in result.stdout and "router.img" in result.stdout
    doc = json.loads(_verify(release, "--json").stdout)
    assert doc["verified"] is True and doc["artifact"]["name"] == "router.img"
    assert (release / "state").is_dir()  # the checkpoint seen is remembered


def test_each_failure_has_its_own_exit_code(release):
    (release / "changed.img").write_bytes(FIRMWARE[:-1] + b"!")
    assert _verify(release, artifact="changed.img").returncode == 10
    assert _verify(release, bundle="other.bundle.json").returncode == 11
    (release / "truncated.json").write_bytes((release / "release.bundle.json").read_bytes()[:99])
    result = _verify(release, "--json", bundle="truncated.json")
    assert result.returncode == 2 and json.loads(result.stdout)["failure"] == "bundle"
    unstated = _verify(release, "--json", bundle="unstated.bundle.json")
    assert unstated.returncode == 18 and json.loads(unstated.stdout)["failure"] == "status"
    missing = _verify(release, artifact="nothing.img")
    assert missing.returncode == 1 and "is not a file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_verifier_loads_nothing_heavy():
    code = (
        "import sys, clearroom.cli.verify; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'django', 'typer', 'httpx', 'obstore', 'rich', 'ninja', 'click'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- Issue 12: inputs that never end, policies with typos, bundles that trip the parser ----------

MEMORY_LIMIT = 1 << 30
"""Address space for the verifier under attack: a regression fails fast instead of swapping."""

_MEASURED = """
import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
result = subprocess.run(sys.argv[2:], preexec_fn=limit, timeout=120)
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(result.returncode)
"""


def _verify_measured(machine, *args):
    """Run ``clearroom verify`` with ``args`` under a memory limit; its result and its peak
    resident memory in MB (measured by a parent of its own, so no other test's child counts)."""
    command = [sys.executable, "-m", "clearroom.cli.entry", "verify", str(machine / "router.img")]
    command += ["--policy", str(machine / "policy.toml"), "--no-state", *args]
    peak = machine / "peak-rss"
    wrapper = [sys.executable, "-c", _MEASURED.format(limit=MEMORY_LIMIT), str(peak)]
    result = subprocess.run([*wrapper, *command], capture_output=True, text=True, timeout=150)
    return result, int(peak.read_text()) / 1024


def test_bundle_from_dev_zero_is_refused_at_the_cap_in_bounded_memory(release):
    result, peak_mb = _verify_measured(release, "--bundle", "/dev/zero")
    assert result.returncode == 2, result.stderr
    assert "bundle: /dev/zero is larger than the limit of 33,554,432 bytes" in result.stderr
    assert "Traceback" not in result.stderr
    assert peak_mb < 100, f"{peak_mb:.0f} MB"


class _Endless(http.server.BaseHTTPRequestHandler):
    """/forever/...: 200 and bytes until the client hangs up; /declared/...: a Content-Length
    of a terabyte (then the same endless bytes)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/declared/"):
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        chunk = b"[" * 65536
        try:
            while not self.server.stopping.is_set():  # type: ignore[attr-defined]
                self.wfile.write(chunk)
        except OSError:
            pass  # the verifier hung up: what we want

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endless_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_online_server_that_streams_forever_is_refused_at_the_cap_in_bounded_memory(
    release, endless_server
):
    result, peak_mb = _verify_measured(release, "--online", f"{endless_server}/forever")
    assert result.returncode == 2, result.stderr
    assert "larger than its 33554432-byte cap" in result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert peak_mb < 100, f"{peak_mb:.0f} MB"


def test_online_server_declaring_a_terabyte_is_refused_before_reading(release, endless_server):
    result, peak_mb = _verify_measured(release, "--online", f"{endless_server}/declared")
    assert result.returncode == 2, result.stderr
    assert "(1000000000000 bytes); refused" in result.stderr
    assert peak_mb < 100, f"{peak_mb:.0f} MB"


def test_bundle_of_100000_brackets_exits_2_without_a_traceback(release):
    (release / "deep.json").write_bytes(b"[" * 100_000)
    result = _verify(release, bundle="deep.json")
    assert result.returncode == 2, result.stderr
    assert "bundle: JSON nested deeper than 32 levels" in result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("quorom = 0", "log.quorom (did you mean 'quorum'?)"),
        ("Quorum = 0", "did you mean 'quorum'"),
    ],
)
def test_policy_typo_quorom_exits_2_naming_quorum(release, line, named):
    policy = release / "policy.toml"
    policy.write_text(policy.read_text().replace("\n\n[vendor]", f"\n{line}\n\n[vendor]"))
    result = _verify(release)
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr and "Traceback" not in result.stderr


def test_policy_typo_requires_table_exits_2_naming_require(release):
    policy = release / "policy.toml"
    policy.write_text(
        policy.read_text()
        + '\n[[requires]]\npredicate_type = "https://slsa.dev/verification_summary/v1"\n'
    )
    result = _verify(release, "--json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["failure"] == "bundle" and "[[requires]] (did you mean 'require'?)" in doc["error"]


def test_policy_that_is_not_utf8_exits_2_without_a_traceback(release):
    policy = release / "policy.toml"
    policy.write_bytes(
        policy.read_bytes().replace(b'organisation = "acme"', b'organisation = "\xff"')
    )
    result = _verify(release)
    assert result.returncode == 2, result.stderr
    assert "not UTF-8" in result.stderr and "Traceback" not in result.stderr


def test_bundle_that_is_a_directory_exits_1_saying_so(release):
    result = _verify(release, bundle="state-dir")
    assert result.returncode == 1 and "does not exist" in result.stderr
    (release / "state-dir").mkdir()
    result = _verify(release, bundle="state-dir")
    assert result.returncode == 1 and "is a directory" in result.stderr


class _Slowloris(socketserver.BaseRequestHandler):
    """Sends a status line, then its headers one byte every 0.1 s, forever: every read is
    quick, so only the verifier's overall deadline can end it."""

    def handle(self) -> None:
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.server.stopping.wait(0.1):  # type: ignore[attr-defined]
                self.request.sendall(b"a")
        except OSError:
            pass


def test_online_server_sending_its_headers_a_byte_at_a_time_is_given_up_at_the_deadline(
    release,
):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Slowloris)
    server.daemon_threads = True
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    code = "import sys, clearroom.cli.verify as v; v.ONLINE_DEADLINE = 2; sys.exit(v.main())"
    command = [sys.executable, "-c", code, str(release / "router.img"), "--online", url]
    command += ["--policy", str(release / "policy.toml"), "--no-state"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert result.returncode == 1, result.stderr
    assert f"--online: no complete answer from {url} within 2 s; gave up" in result.stderr
    assert "Traceback" not in result.stderr


def _replace_state(path, kind):
    """Turn the remembered checkpoint at ``path`` into something a state file must not be."""
    import os

    path.unlink()
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        with path.open("wb") as f:
            f.truncate(1 << 30)  # sparse: 1 GiB that costs no disk
    else:
        os.mkfifo(path)  # nobody ever writes


@pytest.mark.parametrize("kind", ["dev-zero", "huge", "fifo"])
def test_state_file_that_is_dev_zero_huge_or_a_fifo_exits_1_at_the_cap(release, kind):
    """A remembered checkpoint replaced by /dev/zero, a 1 GiB file or a silent FIFO: the
    verifier read it whole (or waited for a writer forever); it now stops at the cap or the
    deadline and says it could not check (exit 1), without a traceback."""
    assert _verify(release).returncode == 0
    (remembered,) = (release / "state").iterdir()
    _replace_state(remembered, kind)
    result = _verify(release, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["verified"] is False and doc["failure"] == "usage"
    says = "within 10 s" if kind == "fifo" else "limit of 1,048,576"
    assert says in result.stdout and "remembered checkpoint" in result.stdout
    assert "Traceback" not in result.stderr
