"""Test-wide fixtures. The per-run data directory is made by ``tests/settings.py`` before
Django starts. Set ``CLEARROOM_DATABASE_URL`` (for example
``postgresql://postgres@127.0.0.1:5432/test``) to run the same tests on PostgreSQL;
``scripts/test`` runs both."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import pytest

from tests import processes

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SESSION = processes.mark_session()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No process the suite started (servers, witnesses, gunicorn, gpg-agent, ...) may outlive
    it: any still running fails the run, named, and is killed."""
    left = processes.leftovers(SESSION)
    if not left:
        return
    lines = "\n".join(f"  pid {pid}: {command}" for pid, command in sorted(left.items()))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"processes started by the tests were still running at the end:\n{lines}"
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("!", "processes left behind", red=True, bold=True)
        reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ["CLEARROOM_DATA_DIR"])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-world corpora beside the checkout; conformance tests skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"conformance data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def own_log(settings, tmp_path):
    """A fresh transparency log (key, sequence database, public tiles) for this test."""
    import dataclasses

    from clearroom.server.attestations import centre
    from clearroom.server.transparency import identity

    settings.CONFIG = dataclasses.replace(
        settings.CONFIG,
        data_dir=tmp_path / "data",
        tlog_key_file="",
        tlog_tiles_url="",
        tlog_origin="",
        tlog_verifier_key="",
        attest_key="",
        tlog_witnesses=(),
        tlog_min_cosignatures=0,
    )
    caches = (
        identity.signer,
        identity.verifier,
        identity.public_files,
        identity.witnesses,
        centre.centre_signer,
    )
    for cached in caches:
        cached.cache_clear()
    yield settings.CONFIG
    for cached in caches:
        cached.cache_clear()


@pytest.fixture
def log_writer(own_log):
    """``drain()`` logs every waiting fact and waits for a checkpoint covering them, in the
    test's own thread and transaction (what the background writer does in production)."""
    from clearroom.server.transparency.keeper import LogKeeper

    keeper = LogKeeper()
    sequencer = keeper.open_sequencer()
    assert sequencer is not None

    def drain() -> int:
        while keeper.pump(sequencer):
            pass
        if sequencer.sequenced:
            sequencer.wait_for(sequencer.sequenced - 1, timeout=30)
        return sequencer.size

    yield drain
    sequencer.close()


from tests.softhsm import softhsm  # noqa: E402,F401 - a fixture for every test package

SCAN_DATA = Path(__file__).resolve().parent / "data" / "scan"
"""An SBOM and OSV advisories that match it (webkit critical, parser low)."""


def load_scan_advisories(settings, tmp_path: Path):
    """Point the centre at a fresh advisory store holding the scan test advisories."""
    import dataclasses
    import json

    from clearroom.server.vulnerabilities import services

    settings.CONFIG = dataclasses.replace(settings.CONFIG, advisory_db=str(tmp_path / "adv.db"))
    services.advisory_store.cache_clear()
    folder = tmp_path / "osv"
    folder.mkdir()
    for record in json.loads((SCAN_DATA / "advisories.json").read_text()):
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    services.advisory_store().import_paths([folder])
    return services.advisory_store()


@pytest.fixture
def scan_advisories(settings, tmp_path):
    """:func:`load_scan_advisories`, closed after the test."""
    from clearroom.server.vulnerabilities import services

    yield load_scan_advisories(settings, tmp_path)
    services.advisory_store().close()
    services.advisory_store.cache_clear()


@pytest.fixture(scope="session")
def oasis_csaf():
    """The OASIS CSAF reference validator (tests/csaf_validator); fails, never skips, where it
    is not installed, so that CI cannot pass without it."""
    from tests.csaf_validator import OasisCsaf

    validator = OasisCsaf()
    yield validator
    validator.close()
