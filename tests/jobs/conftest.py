"""Fixtures of the jobs tests: backend selection, worker subprocesses that share the test
database, and waiting for a job to reach a state."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests import processes
from tests.jobs import sample_tasks  # noqa: F401 - registers the test job kinds

REPO = Path(__file__).resolve().parents[2]

# A worker as `clearroom worker` runs it, pointed at the test database (a test run renames it).
WORKER_CODE = """
import os, sys
from django.conf import settings
settings.DATABASES["default"]["NAME"] = os.environ["JOBS_TEST_DB_NAME"]
import django
django.setup()
import tests.jobs.sample_tasks
from clearroom.jobs import run_worker
run_worker(lease_seconds=float(sys.argv[1]), poll_seconds=0.2)
"""


@pytest.fixture
def inprocess(settings: Any) -> None:
    """Use the embedded backend, whatever the run's configuration (also on PostgreSQL)."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, jobs_backend="inprocess")


@pytest.fixture
def procrastinate_db(transactional_db: None) -> Iterator[None]:
    """The procrastinate backend on the test database, its tables emptied around the test
    (Django's flush leaves unmanaged tables alone)."""
    if django_settings.CONFIG.jobs_backend != "procrastinate":
        pytest.skip(
            "procrastinate backend not configured: run with CLEARROOM_DATABASE_URL=postgresql://…"
            " CLEARROOM_JOBS_BACKEND=procrastinate"
        )
    _empty_procrastinate_tables()
    yield
    _empty_procrastinate_tables()


def _empty_procrastinate_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
            " procrastinate_workers RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def start_worker() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``clearroom.jobs.run_worker()`` in a subprocess (its own process group, SIGINT
    and SIGTERM inherited ignored) with this run's environment and test database; whatever is
    left is stopped at the end (tests.processes)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*, backend: str, lease_seconds: float) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            CLEARROOM_DATA_DIR=str(django_settings.CONFIG.data_dir),
            JOBS_TEST_DB_NAME=str(connection.settings_dict["NAME"]),
            CLEARROOM_JOBS_BACKEND=backend,
        )
        process = processes.start(
            [sys.executable, "-c", WORKER_CODE, str(lease_seconds)], cwd=REPO, env=env
        )
        started.append(process)
        return process

    yield start
    for process in started:
        processes.stop(process)
