"""Running a local log from the command line and verifying its receipts offline."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from clearroom.cli.log_tools import register
from clearroom.tlog.merkle import verify_consistency

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
