"""Running a local log from the command line and verifying its receipts offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clearroom.cli.log_tools import register
from clearroom.tlog.merkle import verify_consistency
from clearroom.untrusted import InputTooLarge

app = typer.Typer()
register(app)
runner = CliRunner()


def test_append_then_verify_the_receipt_offline(tmp_path):
    key_file = tmp_path / "log.key"
    keygen = runner.invoke(app, ["keygen", "--name", "clearroom.test/cli", "--out", str(key_file)])
    assert keygen.exit_code == 0, keygen.output
    verifier_key = keygen.output.strip()
    assert verifier_key.startswith("clearroom.test/cli+")
    assert key_file.stat().st_mode & 0o777 == 0o600
    facts = []
    for i in range(3):
        fact = tmp_path / f"fact{i}.json"
        fact.write_text(f'{{"fact": {i}}}')
        facts.append(fact)
    log = tmp_path / "log"
    appended = runner.invoke(
        app, ["append", str(log), *map(str, facts), "--key-file", str(key_file)]
    )
    assert appended.exit_code == 0, appended.output
    assert "index 2" in appended.output

    ok = runner.invoke(
        app,
        ["verify", str(facts[1]) + ".tlog-proof", "--entry", str(facts[1]), "--key", verifier_key],
    )
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output

    wrong = runner.invoke(
        app,
        ["verify", str(facts[1]) + ".tlog-proof", "--entry", str(facts[0]), "--key", verifier_key],
    )
    assert wrong.exit_code == 3, wrong.output  # the receipt does not verify for this entry

    checkpoint = runner.invoke(app, ["checkpoint", str(log)])
    assert checkpoint.output.startswith("clearroom.test/cli\n3\n")


def test_prove_consistency_between_two_sizes(tmp_path):
    import base64

    from clearroom.blobs import LocalObjectStore
    from clearroom.tlog.checkpoint import Checkpoint
    from clearroom.tlog.tiles import TileReader

    key_file = tmp_path / "log.key"
    runner.invoke(app, ["keygen", "--name", "clearroom.test/cli", "--out", str(key_file)])
    log = tmp_path / "log"
    first = tmp_path / "a"
    first.write_bytes(b"a")
    runner.invoke(app, ["append", str(log), str(first), "--key-file", str(key_file)])
    old_root = TileReader(LocalObjectStore(log / "tiles"), 1).root()
    more = []
    for name in "bcde":
        path = tmp_path / name
        path.write_bytes(name.encode())
        more.append(str(path))
    runner.invoke(app, ["append", str(log), *more, "--key-file", str(key_file)])
    proved = runner.invoke(app, ["prove", str(log), "--old-size", "1"])
    assert proved.exit_code == 0, proved.output
    proof = [base64.b64decode(line) for line in proved.output.split()]
    note = (log / "tiles" / "checkpoint").read_text()
    current = Checkpoint.parse(note.split("\n\n", 1)[0] + "\n")
    verify_consistency(1, current.size, proof, old_root, current.root_hash)
    assert runner.invoke(app, ["prove", str(log)]).exit_code != 0


# --- Issue 12 item 5: bad files give a clear message; could not check (1) vs log is wrong (3) ---


@pytest.fixture
def logged(tmp_path):
    """A one-entry log: (receipt path, entry path, the log's verifier key)."""
    key_file = tmp_path / "log.key"
    keygen = runner.invoke(app, ["keygen", "--name", "clearroom.test/cli", "--out", str(key_file)])
    fact = tmp_path / "fact.json"
    fact.write_text('{"fact": 1}')
    appended = runner.invoke(
        app, ["append", str(tmp_path / "log"), str(fact), "--key-file", str(key_file)]
    )
    assert appended.exit_code == 0, appended.output
    return tmp_path / "fact.json.tlog-proof", fact, keygen.output.strip()


def _log_verify(receipt, entry, key):
    result = runner.invoke(app, ["verify", str(receipt), "--entry", str(entry), "--key", key])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_log_verify_with_missing_directory_or_binary_receipt_could_not_check(logged, tmp_path):
    _, entry, key = logged
    binary = tmp_path / "binary.tlog-proof"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" * 100)
    other = tmp_path / "entry-as-receipt"
    other.write_text('{"fact": 1}')
    for bad, message in (
        (tmp_path / "missing.tlog-proof", "does not exist"),
        (tmp_path, "is a directory"),
        (binary, "not UTF-8"),
        (other, "is not a receipt"),
    ):
        result = _log_verify(bad, entry, key)
        assert result.exit_code == 1, result.output
        assert message in result.output and "could not check" in result.output


def test_log_verify_with_missing_directory_or_oversized_entry_could_not_check(logged, tmp_path):
    receipt, _, key = logged
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"\0" * 70_000)
    for bad, message in (
        (tmp_path / "missing.json", "does not exist"),
        (tmp_path, "is a directory"),
        (huge, "over the limit of 65,535"),
        (Path("/dev/zero"), "larger than the limit of 65,535"),
    ):
        result = _log_verify(receipt, bad, key)
        assert result.exit_code == 1, result.output
        assert message in result.output


def test_log_verify_with_a_binary_entry_is_checked_not_refused(logged, tmp_path):
    receipt, _, key = logged
    binary = tmp_path / "binary.bin"
    binary.write_bytes(bytes(range(256)))
    result = _log_verify(receipt, binary, key)
    assert result.exit_code == 3 and "LOG CHECK FAILED" in result.output


def test_log_verify_with_a_malformed_key_could_not_check(logged):
    receipt, entry, _ = logged
    result = _log_verify(receipt, entry, "not-a-key")
    assert result.exit_code == 1 and "malformed" in result.output


def test_log_verify_with_a_tampered_receipt_says_the_log_is_wrong(logged):
    receipt, entry, key = logged
    text = receipt.read_text()
    assert _log_verify(receipt, entry, key).exit_code == 0
    receipt.write_text(text.replace("index 0", "index 1"))
    result = _log_verify(receipt, entry, key)
    assert result.exit_code == 3 and "LOG CHECK FAILED" in result.output
    receipt.write_text(text.replace("clearroom.test/cli\n1\n", "clearroom.test/cli\n2\n"))
    result = _log_verify(receipt, entry, key)
    assert result.exit_code == 3 and "signature" in result.output.lower()


def test_log_verify_with_a_receipt_index_in_arabic_indic_digits_is_refused(logged):
    receipt, entry, key = logged
    receipt.write_text(receipt.read_text().replace("index 0", "index \u0660"))
    result = _log_verify(receipt, entry, key)
    assert result.exit_code == 3 and "not a decimal number" in result.output


def test_log_append_of_dev_zero_is_refused_at_the_entry_limit(tmp_path):
    key_file = tmp_path / "log.key"
    runner.invoke(app, ["keygen", "--name", "clearroom.test/cli", "--out", str(key_file)])
    result = runner.invoke(
        app, ["append", str(tmp_path / "log"), "/dev/zero", "--key-file", str(key_file)]
    )
    assert isinstance(result.exception, InputTooLarge)  # printed as "error: …", exit 1
    assert "no log entry is that large" in str(result.exception)
