"""The API's JSON shapes (documented in ``/api/openapi.json``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

Slug = Field(..., pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", examples=["acme-networks"])


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str


class OrganisationIn(Schema):
    slug: str = Slug
    name: str = Field(..., min_length=1, max_length=200)
    kind: Literal["vendor", "regulator", "lab", "customer", "standards_body", "operator"]
    website: str = ""


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str
    website: str


class ProductIn(Schema):
    slug: str = Slug
    name: str = Field(..., min_length=1, max_length=200)
    category: Literal["network", "iot", "cloud", "software"]
    description: str = ""


class ProductOut(Schema):
    vendor: str
    slug: str
    name: str
    category: str
    description: str
    releases_url: str


class ReleaseIn(Schema):
    version: str = Field(..., min_length=1, max_length=100, examples=["2.4.1"])
    support_until: date | None = Field(None, description="End of the security support period.")
    notes: str = ""


class WithdrawIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)


class LogRef(Schema):
    """Where a fact is in the transparency log."""

    fact: str = Field(..., examples=["clearroom.dev/artifact/v1"])
    index: int | None = Field(None, description="Null until the log's writer has sequenced it.")
    leaf_hash: str = Field(..., description="RFC 6962 leaf hash of the entry, hex.")
    url: str = Field(..., description="The entry, its proof and its receipt.")


class FileOut(Schema):
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    sha512: str | None = Field(None, description="Computed after upload; null until then.")
    confidentiality: Literal["public", "confidential"]
    created_at: datetime
    url: str
    download_url: str
    release_state: Literal["draft", "published", "withdrawn"]
    release_url: str
    log: LogRef | None = Field(None, description="The file's fact in the log, once published.")


class ReleaseOut(Schema):
    vendor: str
    product: str
    version: str
    state: Literal["draft", "published", "withdrawn"]
    support_until: date | None
    notes: str
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str
    url: str
    artifacts: list[FileOut]
    documents: list[FileOut]
    log: list[LogRef] = Field(
        ...,
        description=(
            "The log entries about the release (publication, withdrawal, files, signed"
            " statements, review findings), in order."
        ),
    )


class CosignatureOut(Schema):
    name: str
    key_id: str
    timestamp: int | None


class WitnessOut(Schema):
    url: str
    verifier_key: str


class LogOut(Schema):
    origin: str
    verifier_key: str = Field(..., description="C2SP signed-note verifier key of the log.")
    size: int
    root_hash: str | None = Field(None, description="Base64, as in the checkpoint.")
    checkpoint: str | None = Field(None, description="The signed checkpoint note.")
    cosignatures: list[CosignatureOut]
    witnesses: list[WitnessOut]
    waiting: int = Field(..., description="Facts committed but not yet sequenced.")
    tiles_url: str = Field(..., description="C2SP tlog-tiles prefix: checkpoint, tile/…")


class LogEntryOut(Schema):
    fact: str
    index: int | None
    leaf_hash: str
    entry_sha256: str
    entry: dict[str, Any] = Field(..., description="The fact, parsed from the entry.")
    entry_base64: str = Field(..., description="The exact bytes in the log.")
    created_at: datetime
    url: str
    receipt: str | None = Field(
        None, description="C2SP tlog-proof receipt against the published checkpoint."
    )
    release_url: str | None


class ProofOut(Schema):
    index: int
    tree_size: int
    hashes: list[str] = Field(..., description="Inclusion proof, base64, RFC 9162 order.")


class ConsistencyOut(Schema):
    old_size: int
    new_size: int
    hashes: list[str] = Field(..., description="Consistency proof, base64, RFC 9162 order.")
