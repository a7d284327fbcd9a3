"""A strict validation report for an SBOM, kept off the ingest path: it informs, it never gates.

Why per component: validating a whole CycloneDX document in one ``jsonschema`` call takes
seconds for a thousand components and cannot be interrupted. Here the document's top level,
then each component and dependency, are checked against the official schema's definitions
(``schemas/``), with a deadline and an issue budget between items; a report cut short says so.
CycloneDX JSON gets the official schemas (1.2-1.6; later versions use the newest one we have).
SPDX 2 JSON and SPDX 3 JSON-LD get a structural check of the required fields; XML and
tag-value get no strict report yet.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import ijson
from referencing import Registry, Resource

from clearroom.sbom import cyclonedx
from clearroom.sbom.errors import SbomError
from clearroom.sbom.load import STREAM_ABOVE

SCHEMA_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6")
TIMEOUT_SECONDS = 30.0
MAX_ISSUES = 500
_BASE = "http://cyclonedx.org/schema/"
# jsonschema ships no type stubs (and the mypy configuration has no override for it)
Draft7Validator: Any = importlib.import_module("jsonschema").Draft7Validator


@dataclass(frozen=True)
class Issue:
    path: str
    """Where, as ``components[3].hashes[0].alg``; ``""`` for the document itself."""
    message: str


@dataclass(frozen=True)
class ValidationReport:
    checked_against: str
    """The schema or rule set used, e.g. ``CycloneDX 1.6 JSON schema``."""
    issues: tuple[Issue, ...]
    complete: bool
    """False when the deadline or the issue budget stopped the check early, or none applies."""
    note: str = ""
    """Why the check is not complete: not checked at all, or what cut it short."""

    @property
    def checked(self) -> bool:
        """Whether any schema check ran (XML and tag-value get none yet)."""
        return not self.checked_against.startswith("none")

    @property
    def valid(self) -> bool:
        return self.complete and not self.issues

    def summary(self) -> str:
        """One line a person reads: never "0 issues" for a check that did not run or stopped."""
        if not self.checked:
            return f"not checked ({self.note or self.checked_against})"
        if self.valid:
            return f"valid ({self.checked_against})"
        found = f"{len(self.issues)} issue{'' if len(self.issues) == 1 else 's'}"
        if not self.complete:
            return f"{found} found before the check was cut short ({self.note}); the rest unchecked"
        return f"{found} ({self.checked_against})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checked_against": self.checked_against,
            "complete": self.complete,
            "note": self.note,
            "issues": [{"path": i.path, "message": i.message} for i in self.issues],
        }


class _Budget:
    def __init__(self, timeout: float, max_issues: int) -> None:
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.max_issues = max_issues
        self.issues: list[Issue] = []
        self.stopped = ""
        """Set when a part could not be checked at all (e.g. nested too deeply)."""

    @property
    def spent(self) -> bool:
        return time.monotonic() > self.deadline or len(self.issues) >= self.max_issues

    def note(self) -> str:
        """Why the check stopped early, or ``""`` when it ran to the end."""
        if len(self.issues) >= self.max_issues:
            return f"the budget of {self.max_issues} issues was reached"
        if time.monotonic() > self.deadline:
            return f"the {self.timeout:g} s deadline passed"
        return self.stopped

    def report(self, checked_against: str) -> ValidationReport:
        note = self.note()
        return ValidationReport(checked_against, tuple(self.issues), not note, note)

    def add(self, path: str, message: str) -> None:
        if len(self.issues) < self.max_issues:
            self.issues.append(Issue(path, message[:500]))


def validate_sbom(
    source: Path | str | bytes,
    *,
    timeout: float = TIMEOUT_SECONDS,
    max_issues: int = MAX_ISSUES,
    stream_above: int = STREAM_ABOVE,
) -> ValidationReport:
    """Check ``source`` against its format's schema; problems are returned, never raised
    (except :class:`SbomError` when the input is not JSON at all)."""
    budget = _Budget(timeout, max_issues)
    if not isinstance(source, bytes):
        path = Path(source)
        with path.open("rb") as f:
            head = f.read(64 << 10).lstrip(b"\xef\xbb\xbf \t\r\n")
        if path.stat().st_size > stream_above and head.startswith(b"{") and b"bomFormat" in head:
            return _streamed(path, budget)
        source = path.read_bytes()
    if not source.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return ValidationReport(
            "none", (), False, "strict schema checks exist for JSON encodings only, not XML"
        )
    try:
        document = json.loads(source)
    except ValueError as exc:
        raise SbomError(f"SBOM: invalid or truncated JSON ({exc})") from exc
    return validate_document(document, budget=budget)


def validate_document(
    document: dict[str, Any], *, budget: _Budget | None = None
) -> ValidationReport:
    """Check an already-decoded JSON SBOM."""
    budget = budget or _Budget(TIMEOUT_SECONDS, MAX_ISSUES)
    if document.get("bomFormat") == "CycloneDX":
        version = _schema_version(str(document.get("specVersion", "")))
        top = {k: v for k, v in document.items() if k not in ("components", "dependencies")}
        _check(_validator(version, ""), top, "", budget)
        _items(version, "component", "components", document.get("components"), budget)
        _items(version, "dependency", "dependencies", document.get("dependencies"), budget)
        return budget.report(f"CycloneDX {version} JSON schema")
    if "spdxVersion" in document:
        _spdx2(document, budget)
        return budget.report("SPDX 2.3 required fields")
    if "@graph" in document:
        _spdx3(document, budget)
        return budget.report("SPDX 3.0 required fields")
    raise SbomError("SBOM: the JSON document is neither CycloneDX nor SPDX")


def _streamed(path: Path, budget: _Budget) -> ValidationReport:
    try:
        head = cyclonedx.read_head(path)
        version = _schema_version(str(head.get("specVersion", "")))
        _check(_validator(version, ""), head, "", budget)
        for definition, key in (("component", "components"), ("dependency", "dependencies")):
            with path.open("rb") as f:
                _items(
                    version, definition, key, ijson.items(f, f"{key}.item", use_float=True), budget
                )
    except ijson.JSONError as exc:
        budget.add("", f"invalid or truncated JSON ({exc})")
        budget.stopped = budget.stopped or "the JSON is invalid or truncated"
        return budget.report("CycloneDX JSON schema")
    return budget.report(
        f"CycloneDX {version} JSON schema (streamed: top level, components, dependencies)"
    )


def _items(version: str, definition: str, key: str, items: Any, budget: _Budget) -> None:
    if items is None:
        return
    if not isinstance(items, Iterable) or isinstance(items, dict | str):
        budget.add(key, f"{key} is not an array")
        return
    validator = _validator(version, definition)
    for index, item in enumerate(items):
        if budget.spent:
            return
        _check(validator, item, f"{key}[{index}]", budget)


def _check(validator: Any, value: Any, where: str, budget: _Budget) -> None:
    try:
        for error in validator.iter_errors(value):
            budget.add(_path(where, error.absolute_path), error.message)
            if budget.spent:
                return
    except RecursionError:  # jsonschema recurses per level: a few hundred levels exhaust it
        budget.add(where, "nested too deeply to check against the schema; not checked")
        budget.stopped = f"{where or 'the document'} is nested too deeply to check"


def _path(where: str, parts: Iterable[str | int]) -> str:
    path = where
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _schema_version(spec_version: str) -> str:
    if spec_version in SCHEMA_VERSIONS:
        return spec_version
    newer = spec_version > SCHEMA_VERSIONS[-1]
    return SCHEMA_VERSIONS[-1] if newer else SCHEMA_VERSIONS[0]


@cache
def _registry() -> Registry[Any]:
    folder = resources.files("clearroom.sbom") / "schemas"
    pairs = []
    for entry in folder.iterdir():
        if entry.name.endswith(".schema.json"):
            contents = json.loads(entry.read_text(encoding="utf-8"))
            resource = Resource.from_contents(contents)
            pairs.append((_BASE + entry.name, resource))
            if "$id" in contents:
                pairs.append((contents["$id"], resource))
    return Registry().with_resources(pairs)


@cache
def _validator(version: str, definition: str) -> Any:
    uri = _BASE + f"bom-{version}.SNAPSHOT.schema.json"
    schema = {"$ref": f"{uri}#/definitions/{definition}" if definition else uri}
    return Draft7Validator(
        schema, registry=_registry(), format_checker=Draft7Validator.FORMAT_CHECKER
    )


# -- SPDX: required fields only ---------------------------------------------------------------

_SPDX2_DOCUMENT = (
    "spdxVersion",
    "dataLicense",
    "SPDXID",
    "name",
    "documentNamespace",
    "creationInfo",
)
_SPDX2_PACKAGE = ("SPDXID", "name", "downloadLocation")


def _spdx2(document: dict[str, Any], budget: _Budget) -> None:
    for key in _SPDX2_DOCUMENT:
        if key not in document:
            budget.add(key, f"required field {key!r} missing")
    info = document.get("creationInfo")
    if isinstance(info, dict):
        for key in ("created", "creators"):
            if not info.get(key):
                budget.add(f"creationInfo.{key}", f"required field {key!r} missing")
    for key, fields in (
        ("packages", _SPDX2_PACKAGE),
        ("files", ("SPDXID", "fileName", "checksums")),
    ):
        for index, element in enumerate(_as_objects(document.get(key), key, budget)):
            for field in fields:
                if field not in element:
                    budget.add(f"{key}[{index}]", f"required field {field!r} missing")


def _spdx3(document: dict[str, Any], budget: _Budget) -> None:
    if "spdx.org/rdf/3" not in json.dumps(document.get("@context", "")):
        budget.add("@context", "not the SPDX 3 JSON-LD context")
    for index, element in enumerate(_as_objects(document.get("@graph"), "@graph", budget)):
        kind = element.get("type") or element.get("@type")
        if not kind:
            budget.add(f"@graph[{index}]", "element without a type")
        elif kind == "CreationInfo":
            for field in ("specVersion", "created", "createdBy"):
                if field not in element:
                    budget.add(f"@graph[{index}]", f"CreationInfo without {field!r}")
        elif not (element.get("spdxId") or element.get("@id")):
            budget.add(f"@graph[{index}]", f"{kind} without an spdxId")
        elif kind.endswith("Relationship") and not ("from" in element and "to" in element):
            budget.add(f"@graph[{index}]", "Relationship without 'from' and 'to'")


def _as_objects(value: Any, key: str, budget: _Budget) -> Iterator[dict[str, Any]]:
    if value is None:
        return
    if not isinstance(value, list):
        budget.add(key, f"{key} is not an array")
        return
    for index, element in enumerate(value):
        if isinstance(element, dict):
            yield element
        else:
            budget.add(f"{key}[{index}]", "not an object")
