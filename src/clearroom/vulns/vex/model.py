"""The normalised VEX model every format is read into and written from.

Statuses and justifications use the CISA / OpenVEX vocabulary; CSAF flags use the same labels,
and CycloneDX's finer justifications are mapped onto it by :mod:`.cyclonedx`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from packageurl import PackageURL

MAX_VEX_BYTES = 32 << 20
"""Larger documents are refused before parsing."""
MAX_STATEMENTS = 200_000
"""More statements (after expanding products) than this are refused."""


class Status(StrEnum):
    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


class Justification(StrEnum):
    """Why a product is not affected (CISA "VEX Status Justifications", OpenVEX, CSAF flags)."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary"
    )
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class VexFormat(StrEnum):
    OPENVEX = "openvex"
    CSAF = "csaf"
    CYCLONEDX = "cyclonedx"


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product (or, in ``subcomponents``, the parts of it the statement is about).

    ``id`` is the format's own handle (OpenVEX ``@id``, CSAF ``product_id``, CycloneDX
    ``bom-ref`` or BOM-Link). ``version`` or ``version_range`` (a ``vers:`` range) narrow a
    purl or name that carries no version.
    """

    id: str | None = None
    purl: str | None = None
    cpe: str | None = None
    name: str | None = None
    version: str | None = None
    version_range: str | None = None
    subcomponents: tuple[ProductRef, ...] = ()

    @property
    def base(self) -> ProductRef:
        return replace(self, subcomponents=())

    @property
    def key(self) -> str:
        """A stable name for resolution: purl without qualifiers, else CPE, name or id, with
        the version when the identifier has none, and the subcomponents."""
        text = self._identity()
        if self.version and not _has_version(self.purl, self.cpe):
            text += f"@{self.version}"
        if self.version_range:
            text += f" {self.version_range}"
        if self.subcomponents:
            text += " > " + ", ".join(sub.key for sub in self.subcomponents)
        return text

    def _identity(self) -> str:
        if self.purl:
            return strip_qualifiers(self.purl)
        return self.cpe or self.name or self.id or ""


def strip_qualifiers(purl: str) -> str:
    """The canonical purl without qualifiers; an unparsable purl is returned unchanged."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return purl
    values = parsed.to_dict()
    values["qualifiers"] = None
    return str(PackageURL(**values).to_string())


def _has_version(purl: str | None, cpe: str | None) -> bool:
    if purl:
        try:
            return bool(PackageURL.from_string(purl).version)
        except ValueError:
            return "@" in purl
    return bool(cpe)


@dataclass(frozen=True, slots=True)
class VexStatement:
    vulnerability: str
    products: tuple[ProductRef, ...]
    status: Status
    aliases: tuple[str, ...] = ()
    justification: Justification | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    timestamp: datetime | None = None
    """Own timestamp, or inherited from the document (``last_updated``, else ``timestamp``)."""


@dataclass(frozen=True, slots=True)
class VexDocument:
    id: str | None
    author: str | None
    version: str | None
    timestamp: datetime | None
    last_updated: datetime | None
    statements: tuple[VexStatement, ...]
    format: VexFormat
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """What was read leniently (unknown values, unresolved references); not compared."""
