"""``clearroom log monitor`` (clearroom.cli.log) run through Typer's CliRunner against a log in a
local directory: exit codes, the table, the JSON, and the loud message with the evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from clearroom.cli import log as log_cli
from clearroom.tlog.layout import bundle_key, tile_key
from clearroom.tlog.monitor import FileMonitorState, Monitor
from clearroom.tlog.note import generate_key, parse_signer_key
from tests.tlog.test_monitor import SimulatedLog, entries, flip

runner = CliRunner()


def monitor(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(log_cli.app, ["monitor", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sim(tmp_path: Path) -> SimulatedLog:
    return SimulatedLog(tmp_path / "log")


def test_a_sound_log_exits_0_with_a_table_then_proves_growth(
    sim: SimulatedLog, tmp_path: Path
) -> None:
    sim.append(entries(0, 600))
    state = str(tmp_path / "state.json")
    code, out, _ = monitor(str(sim.store.root), "--key", sim.verifier.to_key(), "--state", state)
    assert code == 0
    assert "Log verified: example.com/log" in out and "first run → 600" in out
    assert "600 re-hashed from 3 bundles" in out
    sim.append(entries(600, 100))
    code, out, _ = monitor(str(sim.store.root), "--key", sim.verifier.to_key(), "--state", state)
    assert code == 0
    assert "600 → 700" in out and "proved from size 600" in out


def test_json_report_and_key_from_a_file(sim: SimulatedLog, tmp_path: Path) -> None:
    sim.append(entries(0, 10))
    key_file = tmp_path / "log.vkey"
    key_file.write_text(sim.verifier.to_key() + "\n")
    code, out, _ = monitor(str(sim.store.root), "--key", str(key_file), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True and doc["size"] == 10 and doc["entries_checked"] == 10


def test_tampered_bundle_exits_3_with_a_loud_message(sim: SimulatedLog) -> None:
    sim.append(entries(0, 600))
    key = sim.verifier.to_key()
    assert monitor(str(sim.store.root), "--key", key)[0] == 0
    path = sim.store.root / bundle_key(1)
    path.write_bytes(flip(4)(path.read_bytes()))
    code, out, err = monitor(str(sim.store.root), "--key", key)
    assert code == log_cli.EXIT_BAD_LOG == 3
    assert out == ""
    assert "LOG CHECK FAILED" in err and "bundle was altered" in err.replace("\n", " ")
    assert bundle_key(1) in err


def test_tampered_tile_in_json_mode_gives_a_machine_readable_error(sim: SimulatedLog) -> None:
    sim.append(entries(0, 600))
    path = sim.store.root / tile_key(0, 0)
    path.write_bytes(path.read_bytes()[:-1])
    code, out, _ = monitor(str(sim.store.root), "--key", sim.verifier.to_key(), "--json")
    assert code == 3
    doc = json.loads(out)
    assert (doc["ok"], doc["error"]) == (False, "InvalidTile")


def test_split_view_prints_both_checkpoints(tmp_path: Path) -> None:
    honest = SimulatedLog(tmp_path / "a")
    seen = honest.append(entries(0, 50))
    state = str(tmp_path / "state.json")
    key = honest.verifier.to_key()
    assert monitor(str(honest.store.root), "--key", key, "--state", state)[0] == 0
    fork = SimulatedLog(tmp_path / "b", signer=honest.signer)
    other = fork.append(entries(0, 50, tag="!"))
    code, _, err = monitor(str(fork.store.root), "--key", key, "--state", state, "--json")
    assert code == 3
    assert "SPLIT VIEW" in err
    flat = err.replace("│", "").replace(" ", "")
    for note in (seen, other):
        root_line = note.decode().split("\n")[2]
        assert root_line in flat


def test_missing_cosigner_is_a_warning_not_a_failure(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    _, witness = generate_key("witness.example/w1", cosignature=True)
    code, out, err = monitor(
        str(sim.store.root), "--key", sim.verifier.to_key(), "--cosigner", witness
    )
    assert code == 0
    assert "missing" in out and "did not cosign" in err


def test_a_required_cosigner_that_is_missing_exits_3(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    _, witness = generate_key("witness.example/w1", cosignature=True)
    key = sim.verifier.to_key()
    code, _, err = monitor(
        str(sim.store.root), "--key", key, "--cosigner", witness, "--min-cosignatures", "1"
    )
    assert code == 3 and "0 witness cosignature(s), 1 required" in err.replace("\n", " ")


def test_wrong_key_exits_3_and_a_malformed_key_exits_1(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    _, other = generate_key("example.com/log")
    code, _, err = monitor(str(sim.store.root), "--key", other)
    assert code == 3 and "no signature from a trusted key" in err.replace("\n", " ")
    code, _, err = monitor(str(sim.store.root), "--key", "not-a-key")
    assert code == log_cli.EXIT_UNCHECKED == 1 and "--key" in err


def test_log_that_cannot_be_reached_exits_1(tmp_path: Path) -> None:
    _, key = generate_key("example.com/log")
    code, _, err = monitor(str(tmp_path / "nowhere"), "--key", key)
    assert code == 1 and "could not check" in err
    (tmp_path / "empty").mkdir()
    code, _, err = monitor(str(tmp_path / "empty"), "--key", key)
    assert code == 1 and "not found" in err


def test_watch_repeats_until_interrupted_and_survives_an_unreachable_log(
    sim: SimulatedLog, tmp_path: Path
) -> None:
    sim.append(entries(0, 10))
    checker = Monitor(sim, sim.verifier, state=FileMonitorState(tmp_path / "s.json"))
    rounds: list[float] = []

    def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 1:
            sim.missing.add("checkpoint")  # the log is briefly unreachable
        elif len(rounds) == 2:
            sim.missing.clear()
            sim.append(entries(10, 5))
        else:
            raise KeyboardInterrupt

    out, err = Console(record=True, width=200), Console(record=True, width=200)
    log_cli.run_checks(checker, "sim", out=out, err=err, as_json=True, watch=2.5, sleep=sleep)
    reports = [json.loads(line) for line in out.export_text().splitlines()]
    assert [r["size"] for r in reports] == [10, 15]
    assert rounds == [2.5, 2.5, 2.5]
    warnings = err.export_text()
    assert "retrying in 2.5 s" in warnings and "stopped" in warnings


def test_watch_stops_at_once_on_bad_data(sim: SimulatedLog) -> None:
    sim.append(entries(0, 10))
    checker = Monitor(sim, sim.verifier)

    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        assert len(calls) == 1, "the watch should have stopped"
        sim.tamper(tile_key(0, 0, 10), flip(3))  # tiles are re-derived on every round

    out, err = Console(record=True, width=200), Console(record=True, width=200)
    with pytest.raises(typer.Exit) as stopped:
        log_cli.run_checks(checker, "sim", out=out, err=err, as_json=False, watch=1, sleep=sleep)
    assert stopped.value.exit_code == 3
    assert "LOG CHECK FAILED" in err.export_text()


def test_log_group_lists_monitor() -> None:
    result = runner.invoke(log_cli.app, ["--help"])
    assert result.exit_code == 0 and "monitor" in result.stdout


def test_signer_key_is_not_accepted_as_a_verifier_key(sim: SimulatedLog) -> None:
    skey, _ = generate_key("example.com/log")
    parse_signer_key(skey)
    sim.append(entries(0, 1))
    code, _, _ = monitor(str(sim.store.root), "--key", skey)
    assert code == 1


def test_a_log_folder_from_log_append_is_monitored_through_its_tiles(tmp_path: Path) -> None:
    sim = SimulatedLog(tmp_path / "mylog" / "tiles")
    sim.append(entries(0, 3))
    code, out, _ = monitor(str(tmp_path / "mylog"), "--key", sim.verifier.to_key())
    assert code == 0 and "first run → 3" in out


@pytest.mark.parametrize("kind", ["dev-zero", "huge", "fifo"])
def test_monitor_state_that_is_dev_zero_huge_or_a_fifo_exits_1_at_the_cap(
    sim: SimulatedLog, tmp_path: Path, kind: str
) -> None:
    """The --state file is /dev/zero, a 1 GiB file or a FIFO nobody writes: the monitor read
    4 MiB before checking the size, and waited forever on the FIFO; now it refuses at the cap
    or the deadline with "could not check" (exit 1)."""
    import os

    sim.append(entries(0, 10))
    state = tmp_path / "state.json"
    if kind == "dev-zero":
        state.symlink_to("/dev/zero")
    elif kind == "huge":
        with state.open("wb") as f:
            f.truncate(1 << 30)  # sparse
    else:
        os.mkfifo(state)
    code, _, err = monitor(
        str(sim.store.root), "--key", sim.verifier.to_key(), "--state", str(state)
    )
    assert code == 1
    says = "within 10 s" if kind == "fifo" else "limit of 4,194,304"
    assert says in " ".join(err.split()) and "cannot be used" in " ".join(err.split())
