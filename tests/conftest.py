"""Test-wide fixtures. The per-run data directory is made by ``tests/settings.py`` before
Django starts. Set ``CLEARROOM_DATABASE_URL`` (for example
``postgresql://postgres@127.0.0.1:5432/test``) to run the same tests on PostgreSQL;
``scripts/test`` runs both."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return Path(os.environ["CLEARROOM_DATA_DIR"])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-world corpora beside the checkout; conformance tests skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"conformance data not found at {SHARED_DATA}")
    return SHARED_DATA
