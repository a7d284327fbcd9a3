"""Where an S3-compatible bucket is and how to reach it, parsed from ``s3://`` URLs, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from obstore.store import S3Store

from clearroom.blobs.errors import InvalidKey, InvalidStoreConfig
from clearroom.blobs.layout import check_key

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config

MIN_PART_SIZE = 5 << 20
"""S3 rejects multipart parts smaller than 5 MiB (except the last)."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class S3Settings:
    """An S3 bucket and key prefix, with endpoint, region and credentials.

    Credentials left as None come from the standard AWS environment (``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``, ...).
    ``conditional_put`` uses ``If-None-Match: *`` for ``overwrite=False`` puts and
    ``conditional_copy`` a multipart copy completed with ``If-None-Match: *`` to publish without
    overwriting (AWS S3 supports both; moto accepts them without serialising racing writers).
    Turn them off for stores that lack them, accepting a check-then-write race.
    ``part_size`` is the multipart part size; up to ``upload_concurrency`` parts sit in memory.
    """

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    allow_http: bool = False
    conditional_put: bool = True
    conditional_copy: bool = True
    part_size: int = 10 << 20
    upload_concurrency: int = 4
    timeout_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if _BUCKET.fullmatch(self.bucket) is None:
            raise InvalidStoreConfig(f"bucket={self.bucket!r}", "not a valid S3 bucket name")
        prefix = self.prefix.strip("/")
        if prefix:
            try:
                check_key(prefix)
            except InvalidKey as exc:
                raise InvalidStoreConfig(f"prefix={self.prefix!r}", exc.reason) from None
        object.__setattr__(self, "prefix", prefix)
        if self.endpoint is not None and not self.endpoint.startswith(("http://", "https://")):
            raise InvalidStoreConfig(f"endpoint={self.endpoint!r}", "not an http(s) URL")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise InvalidStoreConfig(
                "access_key_id", "give both the key id and the secret, or neither"
            )
        if self.part_size < MIN_PART_SIZE:
            raise InvalidStoreConfig(f"part_size={self.part_size}", "S3 needs at least 5 MiB")
        if self.upload_concurrency < 1 or self.timeout_seconds <= 0:
            raise InvalidStoreConfig("upload_concurrency/timeout_seconds", "must be positive")

    @classmethod
    def from_url(cls, url: str) -> S3Settings:
        """Parse ``s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1``.

        Other query parameters: ``access_key_id``, ``secret_access_key``, ``session_token``,
        ``allow_http`` (default: true when the endpoint is ``http://``), ``conditional_put``,
        ``conditional_copy``, ``part_size``, ``upload_concurrency``, ``timeout_seconds``.
        """
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname or parts.username or parts.port:
            raise InvalidStoreConfig(
                redact_url(url), "expected s3://bucket/prefix, without user, password or port"
            )
        query = parse_qs(parts.query, keep_blank_values=True)
        known = {f.name for f in fields(cls)} - {"bucket", "prefix"}
        values: dict[str, str] = {}
        for name, given in query.items():
            if name not in known or len(given) != 1:
                raise InvalidStoreConfig(f"?{name}=", "unknown or repeated URL parameter")
            values[name] = given[0]
        endpoint = values.pop("endpoint", None)
        kwargs: dict[str, object] = {"endpoint": endpoint}
        kwargs["allow_http"] = endpoint is not None and endpoint.startswith("http://")
        for name, text in values.items():
            kwargs[name] = _convert(name, text)
        return cls(bucket=parts.netloc, prefix=unquote(parts.path), **kwargs)  # type: ignore[arg-type]

    def connect(self) -> S3Store:
        """An obstore client for this bucket and prefix."""
        config: S3Config = {}
        if self.endpoint is not None:
            config["endpoint"] = self.endpoint
        if self.region is not None:
            config["region"] = self.region
        if self.access_key_id is not None and self.secret_access_key is not None:
            config["access_key_id"] = self.access_key_id
            config["secret_access_key"] = self.secret_access_key
        if self.session_token is not None:
            config["session_token"] = self.session_token
        if self.conditional_copy:
            config["copy_if_not_exists"] = "multipart"
        client: ClientConfig = {
            "allow_http": self.allow_http,
            "connect_timeout": timedelta(seconds=30),
            "timeout": timedelta(seconds=self.timeout_seconds),
        }
        return S3Store(
            self.bucket, prefix=self.prefix or None, config=config, client_options=client
        )


def _convert(name: str, text: str) -> object:
    if name in {"allow_http", "conditional_put", "conditional_copy"}:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise InvalidStoreConfig(f"?{name}={text}", "expected true or false")
    if name in {"part_size", "upload_concurrency", "timeout_seconds"}:
        try:
            return float(text) if name == "timeout_seconds" else int(text)
        except ValueError:
            raise InvalidStoreConfig(f"?{name}={text}", "expected a number") from None
    return text


def redact_url(url: str) -> str:
    """``url`` without user, password and query, fit for an error message or a log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else "<url>"
