"""Deployment configuration: one validated object built from an optional TOML file and
``CLEARROOM_*`` environment variables (the environment wins), so every setting has one name,
one type and one default, and a typo is an error instead of a silent default.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearroom.errors import ClearroomError
from clearroom.tlog.errors import TlogError
from clearroom.tlog.note import CosignatureVerifier, parse_verifier_key
from clearroom.tlog.witness_client import WitnessEndpoint

ENV_PREFIX = "CLEARROOM_"
CONFIG_FILE_ENV = "CLEARROOM_CONFIG"
# CLEARROOM_* variables that are not settings of the service (the CLI's and the tests' own).
NOT_SETTINGS = frozenset(
    {
        CONFIG_FILE_ENV,
        "CLEARROOM_URL",
        "CLEARROOM_TOKEN",
        "CLEARROOM_ADMIN_PASSWORD",
        "CLEARROOM_TEST_POSTGRES_URL",
        "CLEARROOM_TEST_DATA_DIR",
    }
)
GiB = 1024**3


class ConfigError(ClearroomError):
    """A setting is missing, unknown or of the wrong type."""


def _https_or_loopback(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return url.startswith("https://") or (
        url.startswith("http://") and host in ("127.0.0.1", "localhost", "[::1]")
    )


@dataclass(frozen=True)
class Config:
    """Every setting of a Clearroom deployment. Field names are the TOML keys; the environment
    variable is the upper-cased name with the ``CLEARROOM_`` prefix (``data_dir`` →
    ``CLEARROOM_DATA_DIR``)."""

    data_dir: Path = Path("clearroom-data")
    database_url: str = ""
    """Empty: embedded SQLite in ``data_dir``. ``postgresql://user@host:5432/db`` otherwise."""
    blob_store_url: str = ""
    """Empty: ``data_dir/blobs``. ``s3://bucket/prefix?endpoint=…&region=…`` for an object store."""
    secret_key: str = ""
    """Empty: generated once and kept in ``data_dir/secret_key`` (mode 0600)."""
    debug: bool = False
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    base_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 8 * GiB
    jobs_backend: str = "inprocess"
    """``inprocess`` (embedded; jobs persisted in the database) or ``procrastinate``."""
    jobs_poll_seconds: float = 1.0
    jobs_lease_seconds: float = 30.0
    """How long a running job's claim lasts without a heartbeat before another worker retries it."""
    sqlite_busy_timeout_ms: int = 5000
    log_format: str = "json"
    log_level: str = "INFO"
    advisory_db: str = ""
    """The OSV advisory store (SQLite). Empty: ``data_dir/advisories.sqlite3``."""
    attest_key: str = ""
    """The centre's attestation key: empty for ``data_dir/attest.pem`` (Ed25519, generated on
    first use, mode 0600), a path to a PEM key, or a ``pkcs11:`` URI (RFC 7512) for an HSM."""
    tlog_origin: str = ""
    """The transparency log's name. Empty: the name in the key file, or ``<base_url host>/log``
    when the key is first generated. It can never change once the log has entries."""
    tlog_key_file: str = ""
    """The log's Ed25519 signing key (C2SP note format). Empty: ``data_dir/log/log.key``,
    generated on first use with mode 0600."""
    tlog_verifier_key: str = ""
    """The log's public key (``name+hash+base64``). Set it on web machines that do not hold the
    private key; empty: derived from ``tlog_key_file``. The writer refuses a key that differs."""
    tlog_tiles_url: str = ""
    """Where the public log (tiles, entry bundles, checkpoint) is written. Empty:
    ``data_dir/log/tiles``; ``s3://…`` to serve it from an object store or CDN."""
    tlog_witnesses: tuple[str, ...] = ()
    """Witnesses asked to cosign each checkpoint, each as ``URL VERIFIER-KEY``."""
    tlog_min_cosignatures: int = 0
    """Checkpoints with fewer verified cosignatures are not published (the log waits)."""
    tlog_embedded: bool = True
    """Run the log's single writer inside ``clearroom serve``; false when ``clearroom log run``
    runs it as its own process."""
    tlog_max_backlog: int = 10_000
    """Facts waiting for the log beyond which publishing answers 503 with Retry-After."""
    centre_name: str = "Clearroom transparency centre"
    """Who runs this centre, as CSAF provider metadata and emails name it."""
    security_contact: str = "mailto:security@localhost"
    """Where to report a vulnerability in the centre itself (security.txt ``Contact``)."""
    signin_max_failures: int = 5
    """Refused sign-ins of one account (or 4x that from one address) within
    ``signin_lockout_minutes`` after which signing in is refused until the window passes."""
    signin_lockout_minutes: int = 15
    require_second_factor: bool = False
    """Vendor owners and maintainers, evaluators, and staff and superusers (the admin site) must
    confirm an authenticator app (TOTP) or a passkey before they can do anything else once
    signed in."""
    oidc_issuer: str = ""
    """An OpenID Connect provider people may sign in with (its issuer URL, which serves
    ``/.well-known/openid-configuration``); empty: passwords only."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    """Register ``<base_url>/login/oidc/callback`` as the redirect URI at the provider."""
    oidc_label: str = "single sign-on"
    """The sign-in button says "Sign in with <oidc_label>"."""
    smtp_host: str = ""
    """The mail server notifications are sent through; empty: no email (in-app and webhooks
    only)."""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    email_from: str = "clearroom@localhost"
    webhook_allow_private: bool = False
    """Allow webhooks to loopback, private and link-local addresses (tests, closed networks).
    Off: such targets are refused when registered and again when each delivery resolves."""
    webhook_timeout_seconds: float = 5.0
    audit_seal_seconds: float = 60.0
    """The log's writer seals the audit records written since the last batch this often (and
    at once when ``audit_batch_size`` are waiting); each batch's root is a logged fact."""
    audit_batch_size: int = 1000
    """Records per sealed audit batch, at most."""
    release_status_refresh_seconds: float = 86400.0
    """The log's writer re-signs the centre's release status of every published and withdrawn
    release this often (a day): verifiers refuse a status older than their policy's
    ``max_status_age`` (7 days unless it says). At most 6 days, so that default holds."""
    page_cache_mb: int = 64
    """Memory each server process may keep anonymous visitors' public pages and API reads in
    (0: off). A copy is served only while nothing it shows has changed in the database."""
    page_cache_seconds: float = 60.0
    """A kept copy is rendered again after this long at most, so changes that happen with time
    alone (a signing key expiring) show within it."""

    def validate(self) -> Config:
        if self.jobs_backend not in {"inprocess", "procrastinate"}:
            raise ConfigError(
                "config: jobs_backend must be 'inprocess' or 'procrastinate',"
                f" not {self.jobs_backend!r}"
            )
        if self.jobs_backend == "procrastinate" and not self.is_postgres:
            raise ConfigError(
                "config: jobs_backend 'procrastinate' needs PostgreSQL; set CLEARROOM_DATABASE_URL"
                " to a postgresql:// URL or use the 'inprocess' backend"
            )
        if self.database_url and not self.database_url.startswith(("postgres://", "postgresql://")):
            raise ConfigError(
                "config: database_url must be a postgresql:// URL (leave it empty for the"
                f" embedded SQLite database), not {self.database_url.split(':', 1)[0]!r}"
            )
        if self.jobs_poll_seconds <= 0 or self.jobs_lease_seconds <= 0:
            raise ConfigError("config: jobs_poll_seconds and jobs_lease_seconds must be positive")
        if self.max_upload_bytes <= 0:
            raise ConfigError("config: max_upload_bytes must be a positive number of bytes")
        if self.log_format not in {"json", "text"}:
            raise ConfigError(
                f"config: log_format must be 'json' or 'text', not {self.log_format!r}"
            )
        if self.tlog_min_cosignatures > len(self.tlog_witnesses):
            raise ConfigError(
                f"config: tlog_min_cosignatures is {self.tlog_min_cosignatures} but only"
                f" {len(self.tlog_witnesses)} witnesses are configured in tlog_witnesses"
            )
        for witness in self.tlog_witnesses:
            parse_witness(witness)
        if self.tlog_verifier_key:
            try:
                parse_verifier_key(self.tlog_verifier_key)
            except TlogError as exc:
                raise ConfigError(f"config: tlog_verifier_key: {exc}") from None
        if self.tlog_max_backlog < 1:
            raise ConfigError("config: tlog_max_backlog must be at least 1")
        if not 0 < self.smtp_port < 65536 or not 0 < self.webhook_timeout_seconds <= 60:
            raise ConfigError(
                "config: smtp_port must be 1-65535 and webhook_timeout_seconds 0-60 seconds"
            )
        if self.audit_seal_seconds <= 0 or not 1 <= self.audit_batch_size <= 100_000:
            raise ConfigError(
                "config: audit_seal_seconds must be positive and audit_batch_size 1 to 100,000"
            )
        if not 60 <= self.release_status_refresh_seconds <= 6 * 86400:
            raise ConfigError(
                "config: release_status_refresh_seconds must be 60 seconds to 6 days (518400):"
                " verifiers refuse a release status older than 7 days by default"
            )
        if self.oidc_issuer and not (self.oidc_client_id and _https_or_loopback(self.oidc_issuer)):
            raise ConfigError(
                "config: oidc_issuer needs oidc_client_id, and must be an https:// URL"
                " (http:// only on loopback, for tests)"
            )
        if self.page_cache_mb < 0 or self.page_cache_seconds < 0:
            raise ConfigError("config: page_cache_mb and page_cache_seconds must not be negative")
        return self

    @property
    def effective_advisory_db(self) -> Path:
        return Path(self.advisory_db) if self.advisory_db else self.data_dir / "advisories.sqlite3"

    @property
    def tlog_dir(self) -> Path:
        """The log writer's private state: its lock and its sequence database."""
        return self.data_dir / "log"

    @property
    def effective_tlog_key_file(self) -> Path:
        return Path(self.tlog_key_file) if self.tlog_key_file else self.tlog_dir / "log.key"

    @property
    def effective_tlog_tiles_url(self) -> str:
        return self.tlog_tiles_url or str((self.tlog_dir / "tiles").resolve())

    @property
    def is_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "clearroom.sqlite3"

    @property
    def effective_blob_store_url(self) -> str:
        return self.blob_store_url or str((self.data_dir / "blobs").resolve())

    def effective_secret_key(self) -> str:
        """The configured key, or one generated on first use and kept beside the data."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; use its key
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def parse_witness(text: str) -> WitnessEndpoint:
    """One ``tlog_witnesses`` item: ``URL VERIFIER-KEY`` with a witness (cosignature/v1) key."""
    parts = text.split()
    if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
        raise ConfigError(f"config: each of tlog_witnesses is 'URL VERIFIER-KEY', not {text!r}")
    try:
        verifier = parse_verifier_key(parts[1])
    except TlogError as exc:
        raise ConfigError(f"config: tlog_witnesses {parts[0]}: {exc}") from None
    if not isinstance(verifier, CosignatureVerifier):
        raise ConfigError(
            f"config: tlog_witnesses {parts[0]}: {verifier.name} is not a witness"
            " (cosignature/v1) key"
        )
    return WitnessEndpoint(parts[0], verifier)


def _coerce(name: str, raw: Any, annotation: str) -> Any:
    """Turn a TOML value or an environment string into the field's type, or say why not."""
    try:
        if annotation == "Path":
            return Path(str(raw))
        if annotation == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if annotation == "int":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if annotation == "float":
            return float(raw)
        if annotation.startswith("tuple"):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"config: {name} must be of type {annotation.split('[')[0]}, not {raw!r}"
        ) from None


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read ``$CLEARROOM_CONFIG`` (a TOML file, optional) then ``CLEARROOM_*`` variables."""
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    config_file = env.get(CONFIG_FILE_ENV)
    if config_file:
        try:
            with Path(config_file).open("rb") as stream:
                document = tomllib.load(stream)
        except FileNotFoundError:
            raise ConfigError(
                f"config: {CONFIG_FILE_ENV} names {config_file}, which does not exist"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {config_file} is not valid TOML: {exc}") from None
        table = document.get("clearroom", document)
        for key, raw in table.items():
            if key not in fields:
                raise ConfigError(
                    f"config: unknown setting {key!r} in {config_file}; known settings: "
                    + ", ".join(sorted(fields))
                )
            values[key] = _coerce(key, raw, str(fields[key].type))
    by_env_name = {ENV_PREFIX + name.upper(): name for name in fields}
    for env_name, raw in env.items():
        if not env_name.startswith(ENV_PREFIX) or env_name in NOT_SETTINGS:
            continue
        name = by_env_name.get(env_name)
        if name is None:
            raise ConfigError(
                f"config: unknown variable {env_name}; known settings: "
                + ", ".join(sorted(by_env_name))
            )
        values[name] = _coerce(env_name, raw, str(fields[name].type))
    return Config(**values).validate()
