"""The log's single writer inside the service: it survives a crash between the log and the
database, yields to another process holding the log, asks witnesses, and refuses a key that
does not match the configured log."""

from __future__ import annotations

import dataclasses
import os
import threading
import time

import pytest
from tests.server.conftest import RELEASE, put

from clearroom.cli.witness import load_witness, make_server
from clearroom.errors import ClearroomError
from clearroom.server.transparency import identity
from clearroom.server.transparency import services as log
from clearroom.server.transparency.keeper import LogKeeper
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.note import generate_key, parse_verifier_key


def _publish(world, version_files=(b"fw",)):
    client = world.client(world.token)
    for i, data in enumerate(version_files):
        assert put(client, f"fw{i}.bin", data).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    return client


def test_indexes_lost_in_a_crash_are_recovered_from_the_log(world, own_log):
    _publish(world, (b"one", b"two"))
    rows = list(LogEntry.objects.order_by("id"))
    keeper = LogKeeper()
    sequencer = keeper.open_sequencer()
    # The log made the entries durable, then the process died before the database knew.
    sequencer.add_many([bytes(r.entry) for r in rows])
    sequencer.close()
    assert not LogEntry.objects.filter(index__isnull=False).exists()

    sequencer = keeper.open_sequencer()
    try:
        keeper._reconcile(sequencer)
        assert keeper.pump(sequencer) == 0  # nothing is logged twice
        assert sequencer.sequenced == len(rows)
    finally:
        sequencer.close()
    assert [r.index for r in LogEntry.objects.order_by("id")] == list(range(len(rows)))


def test_an_entry_the_database_lost_is_adopted_not_dropped(world, own_log, caplog):
    keeper = LogKeeper()
    sequencer = keeper.open_sequencer()
    _, entry = facts.make_fact(
        facts.RELEASE,
        world.product.releases.get().created_at,
        release={"vendor": "acme", "product": "router", "version": "0.9"},
        state="published",
        files=[],
    )
    sequencer.add(entry)
    try:
        keeper._reconcile(sequencer)
    finally:
        sequencer.close()
    adopted = LogEntry.objects.get(index=0)
    assert bytes(adopted.entry) == entry and adopted.release is None
    assert "unknown to the database" in caplog.text


def test_a_log_folder_of_another_database_is_refused(world, own_log):
    _publish(world)
    LogEntry.objects.filter(pk=LogEntry.objects.first().pk).update(index=7)
    keeper = LogKeeper()
    sequencer = keeper.open_sequencer()
    try:
        with pytest.raises(ClearroomError, match="does not belong to this database"):
            keeper._reconcile(sequencer)
    finally:
        sequencer.close()


@pytest.mark.django_db(transaction=True)
def test_the_background_writer_logs_facts_and_only_one_process_writes(world, own_log):
    keepers = [LogKeeper(poll_seconds=0.05).start() for _ in range(2)]
    deadline = time.monotonic() + 30
    while not any(k.is_writer.is_set() for k in keepers):
        assert time.monotonic() < deadline, "no keeper became the writer"
        time.sleep(0.05)
    writer, other = sorted(keepers, key=lambda k: not k.is_writer.is_set())
    try:
        time.sleep(0.2)
        assert not other.is_writer.is_set()  # the log's lock keeps one writer
        _publish(world)
        while LogEntry.objects.filter(index__isnull=True).exists():
            assert time.monotonic() < deadline, "the writer did not log the facts"
            time.sleep(0.05)
        while (state := log.log_state()) is None or state.checkpoint.size < 2:
            assert time.monotonic() < deadline, "no checkpoint covers the facts"
            time.sleep(0.05)
    finally:
        writer.stop()
    assert other.is_writer.wait(15)  # it takes over when the writer stops
    other.stop()


def test_witnesses_cosign_every_published_checkpoint(world, own_log, settings, tmp_path):
    origin_key = identity.signer().verifier().to_key()
    skey, vkey = generate_key("witness.test/w1", cosignature=True)
    (tmp_path / "w.key").write_text(skey)
    os.chmod(tmp_path / "w.key", 0o600)
    server = make_server(load_witness(tmp_path / "w.key", [origin_key], tmp_path / "w"), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, tlog_witnesses=(f"{url} {vkey}",), tlog_min_cosignatures=1
    )
    identity.witnesses.cache_clear()
    try:
        keeper = LogKeeper()
        sequencer = keeper.open_sequencer()
        try:
            _publish(world)
            keeper.pump(sequencer)
            sequencer.wait_for(1, timeout=30)
            _publish_second = world.client(world.token)
            _publish_second.post(f"{RELEASE}/withdraw", {"reason": "x"}, "application/json")
            keeper.pump(sequencer)
            sequencer.wait_for(2, timeout=30)  # second checkpoint: the witness checks consistency
        finally:
            sequencer.close()
        state = log.log_state()
        assert state.checkpoint.size == 3
        assert [c.name for c in state.cosignatures] == ["witness.test/w1"]
        _, cosigned = open_checkpoint(
            state.note, identity.verifier(), cosigners=[parse_verifier_key(vkey)]
        )
        assert cosigned
    finally:
        server.shutdown()
        server.server_close()


def test_the_log_key_is_private_and_keeps_its_name(own_log, settings):
    signer = identity.signer()
    key_file = own_log.effective_tlog_key_file
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert signer.name == "127.0.0.1:8000/log" or signer.name.endswith("/log")
    renamed = dataclasses.replace(own_log, tlog_origin="other.example/log")
    with pytest.raises(ClearroomError, match="keeps its name for life"):
        identity.load_signer(renamed)
    witness_key, _ = generate_key("w.example/w", cosignature=True)
    key_file.write_text(witness_key)
    with pytest.raises(ClearroomError, match="witness key"):
        identity.load_signer(own_log)


@pytest.mark.parametrize(
    ("witness", "says"),
    [
        ("http://w.example", "'URL VERIFIER-KEY'"),
        ("ftp://w.example KEY", "'URL VERIFIER-KEY'"),
        ("http://w.example not-a-key", "http://w.example"),
    ],
)
def test_bad_witness_settings_are_refused_at_start(witness, says):
    from clearroom.server.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=says):
        load_config({"CLEARROOM_TLOG_WITNESSES": witness})


def test_a_log_key_is_not_a_witness_key():
    from clearroom.server.config import ConfigError, load_config

    _, log_vkey = generate_key("log.example/log")
    with pytest.raises(ConfigError, match="not a witness"):
        load_config({"CLEARROOM_TLOG_WITNESSES": f"http://w.example {log_vkey}"})
    with pytest.raises(ConfigError, match="only 0 witnesses"):
        load_config({"CLEARROOM_TLOG_MIN_COSIGNATURES": "1"})


def test_a_web_machine_publishes_the_configured_key_and_the_writer_must_hold_it(own_log, settings):
    import dataclasses

    _, other = generate_key("127.0.0.1:8000/log")
    settings.CONFIG = dataclasses.replace(settings.CONFIG, tlog_verifier_key=other)
    identity.verifier.cache_clear()
    assert identity.verifier().to_key() == other
    assert not own_log.effective_tlog_key_file.exists()  # no private key was needed
    with pytest.raises(ClearroomError, match="not the one tlog_verifier_key names"):
        identity.load_signer(settings.CONFIG)


@pytest.mark.django_db(transaction=True)
def test_a_required_witness_that_is_down_holds_checkpoints_back_and_stop_still_ends(
    world, own_log, settings
):
    from tests.cli.test_demo_and_serve import _free_port

    _, vkey = generate_key("witness.test/down", cosignature=True)
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        tlog_witnesses=(f"http://127.0.0.1:{_free_port()} {vkey}",),
        tlog_min_cosignatures=1,
    )
    identity.witnesses.cache_clear()
    keeper = LogKeeper(poll_seconds=0.05).start()
    try:
        _publish(world)
        deadline = time.monotonic() + 30
        while LogEntry.objects.filter(index__isnull=True).exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        assert log.log_state() is None  # sequenced and durable, but not published unwitnessed
    finally:
        keeper.stop(timeout=20)
    assert not keeper._thread.is_alive()  # it did not hang waiting for the witness
