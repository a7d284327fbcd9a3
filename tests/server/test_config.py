"""Configuration: TOML file then environment, every mistake a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearroom.server.config import ConfigError, load_config


def test_defaults_are_the_embedded_centre():
    config = load_config({})
    assert not config.is_postgres
    assert config.jobs_backend == "inprocess"
    assert config.sqlite_path == Path("clearroom-data/clearroom.sqlite3")


def test_environment_overrides_the_file(tmp_path):
    file = tmp_path / "clearroom.toml"
    file.write_text(
        '[clearroom]\nmax_upload_bytes = 1000\ndebug = true\nallowed_hosts = ["a.example"]\n'
    )
    config = load_config({"CLEARROOM_CONFIG": str(file), "CLEARROOM_MAX_UPLOAD_BYTES": "2000"})
    assert config.max_upload_bytes == 2000
    assert config.debug is True
    assert config.allowed_hosts == ("a.example",)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CLEARROOM_MAX_UPLOAD_BYTE": "1"}, "unknown variable CLEARROOM_MAX_UPLOAD_BYTE"),
        ({"CLEARROOM_MAX_UPLOAD_BYTES": "lots"}, "must be of type int"),
        ({"CLEARROOM_DEBUG": "perhaps"}, "must be of type bool"),
        ({"CLEARROOM_JOBS_BACKEND": "celery"}, "jobs_backend must be"),
        ({"CLEARROOM_JOBS_BACKEND": "procrastinate"}, "needs PostgreSQL"),
        ({"CLEARROOM_DATABASE_URL": "mysql://x/y"}, "must be a postgresql:// URL"),
        ({"CLEARROOM_MAX_UPLOAD_BYTES": "0"}, "positive"),
        ({"CLEARROOM_CONFIG": "/nonexistent/clearroom.toml"}, "does not exist"),
    ],
)
def test_mistakes_are_errors_that_say_what_to_fix(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ)


def test_unknown_and_malformed_file_settings_are_errors(tmp_path):
    file = tmp_path / "clearroom.toml"
    file.write_text("max_uplod_bytes = 5\n")
    with pytest.raises(ConfigError, match="unknown setting 'max_uplod_bytes'"):
        load_config({"CLEARROOM_CONFIG": str(file)})
    file.write_text("max_upload_bytes = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config({"CLEARROOM_CONFIG": str(file)})


def test_cli_variables_are_not_mistaken_for_settings():
    assert (
        load_config({"CLEARROOM_TOKEN": "clr_x", "CLEARROOM_URL": "http://x"}).jobs_backend
        == "inprocess"
    )


def test_generated_secret_key_is_kept_and_private(tmp_path):
    config = load_config({"CLEARROOM_DATA_DIR": str(tmp_path)})
    key = config.effective_secret_key()
    assert key == config.effective_secret_key()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
