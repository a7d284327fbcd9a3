"""clearroom.cli.witness: ``keygen`` writes a private key only its owner can read, ``serve``
refuses a configuration it cannot honour, and a served witness cosigns end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearroom.cli.witness import app, load_witness
from clearroom.errors import ClearroomError
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.note import CosignatureVerifier, parse_signer_key, parse_verifier_key
from clearroom.tlog.witness_client import WitnessEndpoint, cosign_with_witnesses
from tests import processes
from tests.tlog.test_witness import LOG, W1, Log


def test_keygen_writes_a_0600_key_and_prints_its_verifier(tmp_path):
    out = tmp_path / "w.key"
    result = CliRunner().invoke(app, ["keygen", "--name", "witness.example/w9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    verifier = parse_verifier_key(result.output.strip())
    assert isinstance(verifier, CosignatureVerifier) and verifier.name == "witness.example/w9"
    signer = parse_signer_key(out.read_text().strip())
    assert signer.verifier() == verifier
    again = CliRunner().invoke(app, ["keygen", "--name", "witness.example/w9", "--out", str(out)])
    assert again.exit_code != 0 and isinstance(again.exception, ClearroomError)
    assert parse_signer_key(out.read_text().strip()).verifier() == verifier  # not overwritten


def key_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "key"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("key", "logs", "message"),
    [
        (LOG.to_key(), [LOG.verifier().to_key()], "plain Ed25519 key"),
        (W1.to_key(), [W1.verifier().to_key()], "is a witness key"),
        (W1.to_key(), [LOG.verifier().to_key()] * 2, "given twice"),
        (W1.to_key(), [], "at least one --log"),
    ],
)
def test_serve_refuses_a_configuration_it_cannot_honour(tmp_path, key, logs, message):
    with pytest.raises(ClearroomError, match=message):
        load_witness(key_file(tmp_path, key), logs, tmp_path / "state")


def test_a_missing_key_file_is_a_clear_error(tmp_path):
    with pytest.raises(ClearroomError, match="cannot read the key file"):
        load_witness(tmp_path / "absent", [LOG.verifier().to_key()], tmp_path / "state")


def _serve_witness(tmp_path: Path):
    """``clearroom witness serve`` in a subprocess that inherited SIGINT and SIGTERM ignored
    (as from a background shell); it prints its key and address once it listens."""
    key = key_file(tmp_path, W1.to_key())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARROOM_", "DJANGO_"))}
    command = [sys.executable, "-m", "clearroom.cli.witness", "serve", "--key-file", str(key)]
    command += ["--log", LOG.verifier().to_key(), "--state", str(tmp_path / "state")]
    command += ["--port", "0"]
    return processes.running(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.mark.slow
def test_serve_cosigns_end_to_end_and_stops_on_sigterm_inherited_ignored(tmp_path):
    with _serve_witness(tmp_path) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == W1.verifier().to_key()
        banner = proc.stdout.readline()
        url = banner.split(" at ")[1].strip()
        log = Log(4)
        endpoint = WitnessEndpoint(url, W1.verifier())
        cosign_with_witnesses(log.checkpoint(), log.proof, [endpoint])
        log.grow(6)
        note = cosign_with_witnesses(log.checkpoint(), log.proof, [endpoint])
        _, cosigs = open_checkpoint(note, LOG.verifier(), cosigners=[W1.verifier()])
        assert len(cosigs) == 1
        stopped = processes.stop(proc)
    assert stopped.returncode == 0, stopped.stderr
    assert "Traceback" not in stopped.stderr


@pytest.mark.slow
def test_witness_inherited_sigint_ignored_still_stops_on_sigint(tmp_path):
    """A Ctrl-C (or ``kill -INT``) reaches a witness started from a background shell."""
    with _serve_witness(tmp_path) as proc:
        assert proc.stdout is not None
        proc.stdout.readline(), proc.stdout.readline()  # listening
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=processes.STOP_TIMEOUT) == 0
        stopped = processes.stop(proc)
    assert "Traceback" not in stopped.stderr
