"""The release manifest: the vendor's signed list of every file of one release — artifacts, SBOMs,
VEX, provenance, test reports — each by name, kind, size and digest. Every file is also a
subject of the Statement, so any in-toto tool can match a download against it.

The JSON Schema of the whole Statement is ``schemas/release-manifest-v1.schema.json`` (see
:func:`release_manifest_schema`); it checks each field, while :meth:`ReleaseManifest.from_statement`
also checks what JSON Schema cannot say: that the subjects and the files list the same digests,
and that names are unique.

Example::

    manifest = ReleaseManifest("acme", "router-fw", "2.4.1", [
        ManifestFile("fw.bin", "artifact", sha256=digest, size=1024),
    ])
    statement = manifest.to_statement()
    assert ReleaseManifest.from_statement(Statement.parse(statement.to_json())) == manifest
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any, Literal, cast, get_args

from clearroom.attest.errors import StatementError
from clearroom.attest.predicates._common import Fields
from clearroom.attest.predicates.types import RELEASE_MANIFEST
from clearroom.attest.statement import Statement, Subject

FileKind = Literal["artifact", "sbom", "vex", "provenance", "test_report", "other"]
FILE_KINDS: tuple[str, ...] = get_args(FileKind)
DIGESTS = ("sha256", "sha512")
SCHEMA_FILE = "release-manifest-v1.schema.json"

_ERR = "release manifest"
_HEX = {"sha256": re.compile(r"[0-9a-f]{64}"), "sha512": re.compile(r"[0-9a-f]{128}")}
# A relative POSIX path: no leading or doubled "/", no "." or ".." segment, no "\" or control
# characters — a name is a download's file name, never a way out of a directory.
_SEGMENT = r"[^/\\\x00-\x1f\x7f]+"
_NAME = re.compile(rf"(?!(?:.*/)?\.\.?(?:/|$)){_SEGMENT}(?:/{_SEGMENT})*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def release_manifest_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a Statement carrying a release manifest."""
    text = resources.files("clearroom.attest").joinpath("schemas", SCHEMA_FILE).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class ManifestFile:
    """One file of a release. ``name`` is a relative path; digests are lower-case hex."""

    name: str
    kind: FileKind
    sha256: str
    size: int
    sha512: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise StatementError(
                f"{_ERR}: file name {self.name!r} must be a relative path without '.', '..', "
                "'\\' or control characters"
            )
        if self.kind not in FILE_KINDS:
            raise StatementError(
                f"{_ERR}: file {self.name!r} has kind {self.kind!r}; "
                f"kinds are {', '.join(FILE_KINDS)}"
            )
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise StatementError(
                f"{_ERR}: file {self.name!r} size must be a non-negative integer, not {self.size!r}"
            )
        for algorithm in DIGESTS:
            value = getattr(self, algorithm)
            if value is None and algorithm != "sha256":
                continue
            if not isinstance(value, str) or not _HEX[algorithm].fullmatch(value):
                length = 64 if algorithm == "sha256" else 128
                raise StatementError(
                    f"{_ERR}: file {self.name!r} {algorithm} must be {length} lower-case hex digits"
                )

    @property
    def digest(self) -> dict[str, str]:
        digest = {"sha256": self.sha256}
        if self.sha512 is not None:
            digest["sha512"] = self.sha512
        return digest

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "size": self.size, "digest": self.digest}


@dataclass(frozen=True)
class ReleaseManifest:
    """Everything one release ships. ``files`` may be given in any order and is kept sorted."""

    vendor: str
    product: str
    version: str
    files: Sequence[ManifestFile]
    support_until: date | None = None

    def __post_init__(self) -> None:
        for field in ("vendor", "product", "version"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise StatementError(f"{_ERR}: release {field} must be a non-empty string")
        files = tuple(sorted(self.files, key=lambda f: f.name))
        if not files:
            raise StatementError(f"{_ERR}: a release lists at least one file")
        for before, after in itertools.pairwise(files):
            if before.name == after.name:
                raise StatementError(f"{_ERR}: file {before.name!r} is listed twice")
        object.__setattr__(self, "files", files)
        if self.support_until is not None and (
            not isinstance(self.support_until, date) or isinstance(self.support_until, datetime)
        ):
            raise StatementError(f"{_ERR}: support_until must be a date")

    def to_predicate(self) -> dict[str, Any]:
        predicate: dict[str, Any] = {
            "release": {"vendor": self.vendor, "product": self.product, "version": self.version},
            "files": [f.to_dict() for f in self.files],
        }
        if self.support_until is not None:
            predicate["supportUntil"] = self.support_until.isoformat()
        return predicate

    def to_statement(self) -> Statement:
        subjects = tuple(Subject(f.name, f.digest) for f in self.files)
        return Statement(subjects, RELEASE_MANIFEST, self.to_predicate())

    @classmethod
    def from_statement(cls, statement: Statement) -> ReleaseManifest:
        """The manifest a Statement carries, checked field by field; unknown fields are
        ignored (in-toto parsing rules), so a later minor version still reads."""
        if statement.predicate_type != RELEASE_MANIFEST:
            raise StatementError(
                f"{_ERR}: predicateType is {statement.predicate_type!r}, not {RELEASE_MANIFEST}"
            )
        predicate = Fields(_ERR, dict(statement.predicate), "predicate")
        release = predicate.obj("release")
        assert release is not None
        vendor, product, version = (release.text(k) for k in ("vendor", "product", "version"))
        support_until = _date(predicate)
        files = predicate.items("files", _file, required=True)
        if not files:
            raise predicate.error("files", "must not be empty")
        manifest = cls(str(vendor), str(product), str(version), files, support_until)
        _check_subjects(statement.subjects, manifest.files)
        return manifest


def _date(predicate: Fields) -> date | None:
    text = predicate.text("supportUntil", required=False)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise predicate.error("supportUntil", f"must be a date YYYY-MM-DD, not {text!r}") from None


def _file(doc: Fields) -> ManifestFile:
    name, kind = doc.text("name"), doc.text("kind")
    size = doc.integer("size", minimum=0)
    digest = doc.obj("digest")
    assert digest is not None and size is not None
    unknown = sorted(set(digest.doc) - set(DIGESTS))
    if unknown:
        raise doc.error("digest", f"has {', '.join(unknown)}; only sha256 and sha512 are used")
    sha256, sha512 = digest.text("sha256"), digest.text("sha512", required=False)
    return ManifestFile(str(name), cast(FileKind, kind), str(sha256), size, sha512)


def _check_subjects(subjects: Sequence[Subject], files: Sequence[ManifestFile]) -> None:
    """Each file is exactly one subject with the same digests, and nothing else is."""
    expected = {f.name: f.digest for f in files}
    seen: set[str] = set()
    for subject in subjects:
        if subject.name in seen:
            raise StatementError(f"{_ERR}: subject {subject.name!r} is listed twice")
        seen.add(subject.name)
        if subject.name not in expected:
            raise StatementError(f"{_ERR}: subject {subject.name!r} is not a file of the release")
        if dict(subject.digest) != expected[subject.name]:
            raise StatementError(
                f"{_ERR}: subject {subject.name!r} digest differs from the file's digest"
            )
    missing = sorted(set(expected) - seen)
    if missing:
        raise StatementError(f"{_ERR}: file {missing[0]!r} is not a subject of the statement")
