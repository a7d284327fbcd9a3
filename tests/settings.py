"""Django settings for the test run: a fresh data directory per run (SQLite database, artifact
store, secret key), set before the real settings read the environment, so tests never touch a
developer's data. ``CLEARROOM_DATABASE_URL`` switches the same tests to PostgreSQL."""

import os
import tempfile

# One data dir per test run, shared with the job children and workers the tests start.
if "CLEARROOM_TEST_DATA_DIR" not in os.environ:
    os.environ["CLEARROOM_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="clearroom-tests-")
os.environ["CLEARROOM_DATA_DIR"] = os.environ["CLEARROOM_TEST_DATA_DIR"]
os.environ.setdefault("CLEARROOM_LOG_FORMAT", "text")
os.environ.setdefault("CLEARROOM_LOG_LEVEL", "WARNING")

from clearroom.server.settings import *  # noqa: F403

# Tests create many users; a fast hasher keeps the suite quick (production keeps PBKDF2).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
