"""`clearroom verify` as a user runs it: a separate process, files on disk, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

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
