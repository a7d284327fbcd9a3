"""Reading OSCAL catalogs: controls in groups and in controls, their statements, and a clear
error for every way a document can be unusable."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from clearroom.standards import CatalogueError, parse_oscal
from clearroom.standards.catalogue import MAX_BYTES, MAX_DEPTH

BASE: dict[str, Any] = {
    "catalog": {
        "uuid": "6F1C1A52-8D0E-4F36-9D2E-3C2B8F0E7A11",
        "metadata": {
            "title": "Baseline",
            "last-modified": "2026-11-01T00:00:00Z",
            "version": "2.0",
            "oscal-version": "1.1.2",
        },
        "controls": [{"id": "top-1", "title": "At the top"}],
        "groups": [
            {
                "id": "g1",
                "title": "Passwords",
                "controls": [
                    {
                        "id": "pw-1",
                        "title": "No default passwords",
                        "parts": [
                            {"id": "pw-1_gdn", "name": "guidance", "prose": "not a statement"},
                            {
                                "id": "pw-1_smt",
                                "name": "statement",
                                "prose": "Unique per device.",
                                "parts": [{"id": "pw-1_smt.a", "name": "item", "prose": "Or set."}],
                            },
                        ],
                        "controls": [{"id": "pw-1.1", "title": "Strong when set"}],
                    }
                ],
                "groups": [
                    {"id": "g1.1", "title": "Sub", "controls": [{"id": "s-1", "title": "S"}]}
                ],
            }
        ],
    }
}


def doc(**changes: Any) -> bytes:
    value = copy.deepcopy(BASE)
    for path, replacement in changes.items():
        holder = value["catalog"]
        *parents, last = path.split("__")
        for part in parents:
            holder = holder[int(part)] if part.isdigit() else holder[part]
        if replacement is None:
            del holder[last]
        else:
            holder[last] = replacement
    return json.dumps(value).encode()


def test_controls_are_read_in_order_with_groups_enhancements_and_statements() -> None:
    catalogue = parse_oscal(doc())
    assert (catalogue.title, catalogue.version, catalogue.oscal_version) == (
        "Baseline",
        "2.0",
        "1.1.2",
    )
    assert catalogue.uuid == "6f1c1a52-8d0e-4f36-9d2e-3c2b8f0e7a11"
    assert [c.id for c in catalogue.controls] == ["top-1", "pw-1", "pw-1.1", "s-1"]
    pw = catalogue.controls[1]
    assert pw.group == "Passwords" and pw.statement == "Unique per device.\nOr set."
    assert catalogue.controls[2].parent == "pw-1" and catalogue.controls[3].group == "Sub"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"{", "not JSON"),
        (b"[]", "the document must be an object"),
        (b'{"catalog": 1}', "catalog must be an object"),
        (doc(uuid="not-a-uuid"), "RFC 4122"),
        (doc(metadata__version=""), "catalog.metadata.version"),
        (doc(metadata__title=None), "catalog.metadata.title"),
        (doc(controls=[{"id": "1bad", "title": "x"}]), "not an OSCAL token"),
        (doc(controls=[{"id": "pw-1", "title": "again"}]), "used twice"),
        (doc(controls=[{"id": "x"}]), "catalog.controls[0].title"),
        (doc(groups=[{"id": "g", "title": "G", "controls": "many"}]), "must be an array"),
        (doc(controls=[], groups=[]), "no controls"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
    ],
)
def test_unusable_documents_are_refused_with_the_place(data: bytes, says: str) -> None:
    with pytest.raises(CatalogueError, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_oscal(data)


def test_deep_nesting_and_size_are_bounded() -> None:
    control: dict[str, Any] = {"id": "c0", "title": "c"}
    deep = control
    for i in range(1, 12):
        deep["controls"] = [{"id": f"c{i}", "title": "c"}]
        deep = deep["controls"][0]
    with pytest.raises(CatalogueError, match="too deeply"):
        parse_oscal(doc(controls=[control]))
    with pytest.raises(CatalogueError, match="MiB"):
        parse_oscal(b" " * (MAX_BYTES + 1))


def _deepest(kind: str, name: str, leaf: dict[str, Any]) -> dict[str, Any]:
    """``leaf`` as the `MAX_DEPTH`-th level of ``kind`` (groups, controls or parts): the most
    the parser allows."""
    node = leaf
    for i in range(MAX_DEPTH - 2, -1, -1):
        node = {"id": f"{name}{i}", "title": name, "name": "statement", kind: [node]}
    return node


def test_the_deepest_catalogue_the_limits_allow_is_still_json_enough() -> None:
    part = _deepest("parts", "p", {"id": "p", "name": "item", "prose": "Do it."})
    control = _deepest("controls", "c", {"id": "leaf", "title": "Leaf", "parts": [part]})
    group = _deepest("groups", "g", {"id": "g", "title": "G", "controls": [control]})
    catalogue = parse_oscal(doc(groups=[group]))
    assert catalogue.controls[-1].statement.endswith("Do it.")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            doc().replace(b'"title": "Baseline"', b'"title": "Baseline", "title": "Other"'),
            "the member 'title' appears twice",
        ),
        (doc().replace(b'"2.0"', b"NaN"), "NaN is not a JSON number"),
        (doc().replace(b'"2.0"', b"-Infinity"), "-Infinity is not a JSON number"),
    ],
    ids=["duplicate-key", "nan", "infinity"],
)
def test_catalogue_with_duplicate_keys_or_nan_is_refused_naming_it(data: bytes, says: str) -> None:
    """Plain json.loads took the last of two "title"s and read NaN as a number: two readers
    of one published catalogue could see two different documents."""
    with pytest.raises(CatalogueError, match=f"^catalogue: {says}"):
        parse_oscal(data)
