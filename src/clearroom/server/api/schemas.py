"""The API's JSON shapes (documented in ``/api/openapi.json``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

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
