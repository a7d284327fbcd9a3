"""Clearroom's log entries are canonical JSON with a known type; anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clearroom.tlog import facts
from clearroom.tlog.errors import InvalidInput

MOMENT = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)
RELEASE = {"vendor": "acme", "product": "router", "version": "1.0"}
DIGEST = "ab" * 32


def _artifact(**overrides):
    fields = {
        "release": RELEASE,
        "sha256": DIGEST,
        "size": 3,
        "media_type": "application/octet-stream",
        "confidentiality": "public",
        "name": "fw.bin",
        **overrides,
    }
    return facts.make_fact(facts.ARTIFACT, MOMENT, **fields)


def test_an_entry_is_the_rfc8785_form_of_its_fact():
    fact_id, entry = _artifact(name="Größe ✓.bin")
    text = entry.decode()
    assert text.startswith('{"confidentiality":"public","fact":"clearroom.dev/artifact/v1"')
    assert " " not in text.replace("Größe ✓.bin", "")
    assert '"time":"2026-11-28T10:00:00Z"' in text  # UTC, whole seconds
    assert "Größe ✓.bin" in text  # UTF-8, not \\u escapes
    parsed = facts.parse_fact(entry)
    assert parsed["id"] == fact_id and parsed["size"] == 3


def test_two_identical_claims_are_two_entries():
    assert _artifact()[1] != _artifact()[1]


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (b"\xff", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"fact":"clearroom.dev/unknown/v1"}', "unknown fact type"),
        (b'{"fact":"clearroom.dev/release/v1","id":"x","time":"t"}', "needs 'release'"),
    ],
)
def test_malformed_entries_are_refused(entry, says):
    with pytest.raises(InvalidInput, match=says):
        facts.parse_fact(entry)


def test_a_non_canonical_spelling_of_a_valid_fact_is_refused():
    _, entry = _artifact()
    spaced = entry.replace(b'","', b'", "', 1)
    with pytest.raises(InvalidInput, match="canonical"):
        facts.parse_fact(spaced)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"sha256": "AB" * 32}, "64 lower-case hex"),
        ({"size": True}, "'size'"),
        ({"size": 1.5}, "floating-point"),
    ],
)
def test_bad_field_values_are_refused(overrides, says):
    with pytest.raises(InvalidInput, match=says):
        _artifact(**overrides)
