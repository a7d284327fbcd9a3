"""Reading an OSCAL catalog (JSON, OSCAL 1.x): its identity, title, version and controls, nested
in groups and in other controls, each with its statement's prose.

Only what a catalogue needs to be used is checked - the shape of the document, unique token ids,
a title for everything - not the whole OSCAL schema: a document NIST's tools accept is accepted
here, and the stored document is the publisher's, byte for byte. The JSON is read strictly
(:func:`clearroom.untrusted.parse_json`: no duplicate keys, NaN or Infinity). Bad input is a
:class:`CatalogueError` naming the place in the document, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from clearroom.errors import ClearroomError
from clearroom.untrusted import MalformedInput, parse_json

MAX_BYTES = 16 * 1024 * 1024
MAX_CONTROLS = 20_000
MAX_DEPTH = 8
MAX_JSON_DEPTH = 64
"""Nesting of the JSON itself: room for groups, controls and parts each `MAX_DEPTH` deep (two
levels per step, an array and an object) and their properties, so this limit is never the
one a catalogue meets first."""
_TOKEN = re.compile(r"^[_A-Za-z][_A-Za-z0-9\-.]{0,99}$")  # OSCAL's token type, bounded
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)


class CatalogueError(ClearroomError):
    """The document is not a usable OSCAL catalog; the message names where and why."""


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    statement: str
    """The prose of its ``statement`` part and that part's items, joined; may be empty."""
    group: str
    """The title of the group it is in (empty at the top level)."""
    parent: str
    """The id of the control it enhances (empty for a base control)."""


@dataclass(frozen=True)
class Catalogue:
    uuid: str
    title: str
    version: str
    oscal_version: str
    controls: tuple[Control, ...]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogueError(f"catalogue: {where} must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CatalogueError(f"catalogue: {where} must be an array")
    return value


def _text(holder: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = holder.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise CatalogueError(f"catalogue: {where}.{key} must be a non-empty string")
    return value.strip()


def _prose(part: dict[str, Any], where: str, depth: int = 0) -> Iterator[str]:
    if depth > MAX_DEPTH:
        raise CatalogueError(f"catalogue: {where} nests parts too deeply")
    text = _text(part, "prose", where, required=False)
    if text:
        yield text
    for i, child in enumerate(_list(part.get("parts"), f"{where}.parts")):
        yield from _prose(_object(child, f"{where}.parts[{i}]"), f"{where}.parts[{i}]", depth + 1)


def _controls(items: Any, where: str, group: str, parent: str, depth: int) -> Iterator[Control]:
    if depth > MAX_DEPTH:
        raise CatalogueError(f"catalogue: {where} nests controls too deeply")
    for i, item in enumerate(_list(items, where)):
        here = f"{where}[{i}]"
        control = _object(item, here)
        ident = _text(control, "id", here)
        if not _TOKEN.match(ident):
            raise CatalogueError(f"catalogue: {here}.id {ident[:40]!r} is not an OSCAL token")
        statements = [
            text
            for j, part in enumerate(_list(control.get("parts"), f"{here}.parts"))
            if _object(part, f"{here}.parts[{j}]").get("name") == "statement"
            for text in _prose(part, f"{here}.parts[{j}]")
        ]
        yield Control(ident, _text(control, "title", here), "\n".join(statements), group, parent)
        yield from _controls(control.get("controls"), f"{here}.controls", group, ident, depth + 1)


def _groups(items: Any, where: str, depth: int) -> Iterator[Control]:
    if depth > MAX_DEPTH:
        raise CatalogueError(f"catalogue: {where} nests groups too deeply")
    for i, item in enumerate(_list(items, where)):
        here = f"{where}[{i}]"
        group = _object(item, here)
        title = _text(group, "title", here)
        yield from _controls(group.get("controls"), f"{here}.controls", title, "", 0)
        yield from _groups(group.get("groups"), f"{here}.groups", depth + 1)


def parse_oscal(data: bytes) -> Catalogue:
    """The catalogue an OSCAL catalog JSON document states."""
    if len(data) > MAX_BYTES:
        raise CatalogueError(f"catalogue: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:  # strictly: a duplicate key or NaN would let two readers see two catalogues
        document = parse_json(data, what="catalogue", max_depth=MAX_JSON_DEPTH)
    except MalformedInput as exc:
        raise CatalogueError(str(exc)) from None
    catalog = _object(_object(document, "the document").get("catalog"), "catalog")
    uuid = _text(catalog, "uuid", "catalog")
    if not _UUID.match(uuid):
        raise CatalogueError("catalogue: catalog.uuid must be an RFC 4122 UUID")
    metadata = _object(catalog.get("metadata"), "catalog.metadata")
    controls = [
        *_controls(catalog.get("controls"), "catalog.controls", "", "", 0),
        *_groups(catalog.get("groups"), "catalog.groups", 0),
    ]
    if not controls:
        raise CatalogueError("catalogue: it has no controls")
    if len(controls) > MAX_CONTROLS:
        raise CatalogueError(f"catalogue: more than {MAX_CONTROLS:,} controls")
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise CatalogueError(f"catalogue: control id {control.id!r} is used twice")
        seen.add(control.id)
    return Catalogue(
        uuid=uuid.lower(),
        title=_text(metadata, "title", "catalog.metadata"),
        version=_text(metadata, "version", "catalog.metadata"),
        oscal_version=_text(metadata, "oscal-version", "catalog.metadata"),
        controls=tuple(controls),
    )
