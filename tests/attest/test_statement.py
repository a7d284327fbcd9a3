"""statement.py: in-toto Statement v1 — one canonical encoding, and payloads that are refused
(including the ones two JSON parsers could read differently)."""

from __future__ import annotations

import json

import pytest

from clearroom.attest.errors import StatementError
from clearroom.attest.statement import PAYLOAD_TYPE, STATEMENT_TYPE, Statement, Subject

SHA256 = "a" * 64


def statement() -> Statement:
    return Statement(
        (Subject("b.bin", {"sha256": SHA256}), Subject("a/é.txt", {"sha512": "b" * 128})),
        "https://example.com/predicate/v1",
        {"z": 1, "a": ["é", {"y": None}]},
    )


def test_constants():
    assert STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert PAYLOAD_TYPE == "application/vnd.in-toto+json"


def test_canonical_json_and_round_trip():
    data = statement().to_json()
    assert (
        data
        == (
            '{"_type":"https://in-toto.io/Statement/v1","predicate":{"a":["é",{"y":null}],"z":1},'
            '"predicateType":"https://example.com/predicate/v1","subject":[{"digest":{"sha256":"'
            + SHA256
            + '"},"name":"b.bin"},{"digest":{"sha512":"'
            + "b" * 128
            + '"},"name":"a/é.txt"}]}'
        ).encode()
    )
    assert Statement.parse(data) == statement()


def test_digests_by_algorithm():
    assert statement().digests() == {"b.bin": SHA256}
    assert statement().digests("sha512") == {"a/é.txt": "b" * 128}


def test_other_digest_algorithms_are_kept_unchecked():
    doc = json.loads(statement().to_json())
    doc["subject"][0]["digest"] = {"gitCommit": "abc123", "sha256": SHA256}
    parsed = Statement.parse(json.dumps(doc).encode())
    assert parsed.subjects[0].digest == {"gitCommit": "abc123", "sha256": SHA256}


def test_predicate_is_optional():
    doc = json.loads(statement().to_json())
    del doc["predicate"]
    assert Statement.parse(json.dumps(doc).encode()).predicate == {}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "not JSON"),
        (b"\xff", "not JSON"),
        (b"[]", "not a Statement"),
        (b'{"_type": "https://in-toto.io/Statement/v0.1"}', "not a Statement"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_not_a_statement(payload, message):
    with pytest.raises(StatementError, match=message):
        Statement.parse(payload)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("subject"), "at least one subject"),
        (lambda d: d.update(subject=[]), "at least one subject"),
        (lambda d: d.update(subject={"name": "x"}), "at least one subject"),
        (lambda d: d.update(subject=["x"]), "needs a digest object"),
        (lambda d: d["subject"][0].pop("digest"), "needs a digest object"),
        (lambda d: d["subject"][0].update(digest={}), "has no digest"),
        (lambda d: d["subject"][0].update(name=3), "name is not a string"),
        (lambda d: d["subject"][0].update(digest={"sha256": 1}), "is not a string"),
        (lambda d: d["subject"][0].update(digest={"sha256": "A" * 64}), "64 lower-case hex"),
        (lambda d: d["subject"][0].update(digest={"sha256": "a" * 63}), "64 lower-case hex"),
        (lambda d: d["subject"][0].update(digest={"sha512": "g" * 128}), "128 lower-case hex"),
        (lambda d: d["subject"][0].update(digest={"sha384": "a" * 64}), "96 lower-case hex"),
        (lambda d: d.pop("predicateType"), "needs a predicateType"),
        (lambda d: d.update(predicateType=""), "needs a predicateType"),
        (lambda d: d.update(predicate=[]), "predicate is not a JSON object"),
    ],
)
def test_invalid_statements(change, message):
    doc = json.loads(statement().to_json())
    change(doc)
    with pytest.raises(StatementError, match=message):
        Statement.parse(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "payload",
    [
        # Which predicateType applies depends on the parser: first copy or last copy wins.
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"'
        + SHA256.encode()
        + b'"}}],"predicateType":"https://a/v1","predicateType":"https://b/v1"}',
        # A repeated digest: one parser checks one digest, another the other.
        b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"'
        + SHA256.encode()
        + b'","sha256":"'
        + b"b" * 64
        + b'"}}],"predicateType":"https://a/v1"}',
    ],
)
def test_repeated_members_are_refused(payload):
    with pytest.raises(StatementError, match="repeats the member"):
        Statement.parse(payload)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(constant):
    payload = statement().to_json().replace(b'"z":1', b'"z":' + constant.encode())
    with pytest.raises(StatementError, match="not JSON"):
        Statement.parse(payload)
