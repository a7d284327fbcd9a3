"""Reading predicate JSON field by field, with errors that name the field's path, and the
in-toto field types predicates share (TypeURI, ResourceURI, Timestamp, DigestSet,
ResourceDescriptor; in-toto/attestation spec/v1/field_types.md and resource_descriptor.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from clearroom.attest.errors import StatementError

T = TypeVar("T")

# RFC 3986 scheme ":" — a TypeURI must be absolute, so it needs a scheme.
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
# RFC 3339 date-time, upper-case T and Z as in-toto writes them.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
HEX_LENGTHS = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")


def is_hex_digest(algorithm: str, value: str) -> bool:
    expected = HEX_LENGTHS.get(algorithm)
    return expected is None or (len(value) == expected and bool(_LOWER_HEX.fullmatch(value)))


def parse_timestamp(text: str) -> datetime | None:
    """The instant an RFC 3339 date-time names, or None when ``text`` is not one."""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class Fields:
    """One JSON object of a predicate. Each getter checks a member's type and raises
    :class:`StatementError` as ``"<subsystem>: <path>.<key> <reason>"``. With
    ``null_is_unset`` (the SLSA parsing rule "unset, null and empty are equivalent") an
    optional member may be ``null``; otherwise null is a type error."""

    def __init__(self, subsystem: str, doc: Any, path: str, *, null_is_unset: bool = False):
        if not isinstance(doc, dict):
            raise StatementError(f"{subsystem}: {path} must be a JSON object")
        self.subsystem, self.doc, self.path = subsystem, doc, path
        self.null_is_unset = null_is_unset

    def error(self, key: str, reason: str) -> StatementError:
        return StatementError(f"{self.subsystem}: {self.where(key)} {reason}")

    def where(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _typed(self, key: str, kind: type[T], what: str, required: bool) -> T | None:
        if key not in self.doc or (self.null_is_unset and self.doc[key] is None):
            if required:
                raise self.error(key, "is required")
            return None
        value = self.doc[key]
        if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
            raise self.error(key, f"must be {what}")
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._typed(key, str, "a non-empty string", required)
        if value is not None and not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value

    def type_uri(self, key: str, *, required: bool = True) -> str | None:
        value = self._typed(key, str, "a URI", required)
        if value is not None and not _URI_SCHEME.fullmatch(value):
            raise self.error(key, "must be an absolute URI (scheme:...)")
        return value

    def resource_uri(self, key: str, *, required: bool = True) -> str | None:
        value = self._typed(key, str, "a URI", required)
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise self.error(key, "must be a URI without whitespace")
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int = 0) -> int | None:
        value = self._typed(key, int, "an integer", required)
        if value is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}")
        return value

    def timestamp(self, key: str, *, required: bool = True) -> datetime | None:
        value = self._typed(key, str, "an RFC 3339 timestamp", required)
        if value is None:
            return None
        instant = parse_timestamp(value)
        if instant is None:
            raise self.error(key, f"must be an RFC 3339 timestamp, not {value!r}")
        return instant

    def obj(self, key: str, *, required: bool = True) -> Fields | None:
        value = self._typed(key, dict, "a JSON object", required)
        if value is None:
            return None
        return Fields(self.subsystem, value, self.where(key), null_is_unset=self.null_is_unset)

    def array(self, key: str, *, required: bool = True, non_empty: bool = False) -> list[Any]:
        value = self._typed(key, list, "an array", required)
        if value is None:
            return []
        if non_empty and not value:
            raise self.error(key, "must not be empty")
        return value

    def items(self, key: str, read: Callable[[Fields], T], *, required: bool = False) -> list[T]:
        """Each element of an array of objects, read by ``read``."""
        return [
            read(
                Fields(
                    self.subsystem,
                    item,
                    f"{self.where(key)}[{i}]",
                    null_is_unset=self.null_is_unset,
                )
            )
            for i, item in enumerate(self.array(key, required=required))
        ]

    def string_map(self, key: str, *, required: bool = False) -> dict[str, str] | None:
        value = self._typed(key, dict, "an object of strings", required)
        if value is not None and not all(isinstance(v, str) for v in value.values()):
            raise self.error(key, "must map names to strings")
        return value

    def digest_set(self, key: str, *, required: bool = True) -> dict[str, str] | None:
        """A DigestSet: algorithm → lower-case hex (checked for the algorithms we know)."""
        value = self.string_map(key, required=required)
        if value is None:
            return None
        if not value:
            raise self.error(key, "must hold at least one digest")
        for algorithm, digest in value.items():
            if not is_hex_digest(algorithm, digest):
                length = HEX_LENGTHS[algorithm]
                raise self.error(key, f"{algorithm} must be {length} lower-case hex digits")
        return value


def resource_descriptor(doc: Fields, *, need_digest: bool = False) -> Mapping[str, Any]:
    """An in-toto ResourceDescriptor: at least one of uri, digest, content."""
    doc.text("name", required=False)
    uri = doc.resource_uri("uri", required=False)
    digest = doc.digest_set("digest", required=need_digest)
    content = doc.text("content", required=False)
    doc.resource_uri("downloadLocation", required=False)
    doc.text("mediaType", required=False)
    doc.obj("annotations", required=False)
    if uri is None and digest is None and content is None:
        raise StatementError(f"{doc.subsystem}: {doc.path} needs a uri, a digest or content")
    return doc.doc
