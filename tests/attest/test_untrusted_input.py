"""Attacks on the verifier's inputs (issue 12, items 1.1, 1.2, 1.4): policies with typos, bundles
nested or numbered to trip the parser, receipts spelling their index in another script, and
inputs that never end. Each is refused with a clear error, never accepted or a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from clearroom.attest.bundle import Bundle, BundleError
from clearroom.attest.policy import POLICY_KEYS, Policy, PolicyError
from clearroom.attest.verify import verify
from clearroom.tlog.checkpoint import Checkpoint
from clearroom.tlog.errors import InvalidCheckpoint, InvalidProof, InvalidTilePath
from clearroom.tlog.layout import parse_key
from clearroom.tlog.note import generate_key
from clearroom.tlog.receipt import Receipt
from clearroom.untrusted import (
    InputError,
    InputTooLarge,
    MalformedInput,
    json_depth,
    parse_decimal,
    parse_json,
    read_capped,
)
from tests.attest.centre import FIRMWARE, Centre, manifest_for, sign

DIGEST = hashlib.sha256(FIRMWARE).hexdigest()


@pytest.fixture
def centre(tmp_path):
    c = Centre(tmp_path / "centre")
    yield c
    c.close()


def _policy_doc(centre: Centre) -> dict[str, dict[str, object]]:
    return {
        "log": {"origin": centre.name, "key": centre.log_vkey},
        "vendor": {"organisation": "acme", "keys": [centre.vendor.public_key.to_pem()]},
    }


# --- 1.2 A policy typo weakens the check ---------------------------------------------------------


@pytest.mark.parametrize("typo", ["quorom", "Quorum", "qorum"])
def test_policy_typo_quorom_is_refused_naming_quorum(centre, typo):
    doc = _policy_doc(centre)
    doc["log"][typo] = 1
    with pytest.raises(PolicyError, match=rf"unknown key log\.{typo} \(did you mean 'quorum'\?\)"):
        Policy.from_dict(doc)


def test_policy_typo_requires_table_is_refused_naming_require(centre):
    doc: dict[str, object] = _policy_doc(centre)
    doc["requires"] = [{"predicate_type": "https://slsa.dev/verification_summary/v1"}]
    with pytest.raises(
        PolicyError, match=r"unknown table \[\[requires\]\] \(did you mean 'require'"
    ):
        Policy.from_dict(doc)


def test_policy_typo_inside_a_require_table_is_refused(centre):
    doc: dict[str, object] = _policy_doc(centre)
    pem = centre.vendor.public_key.to_pem()
    doc["require"] = [{"predicate_type": "x", "signers": [pem], "resutl": "PASSED"}]
    with pytest.raises(PolicyError, match=r"require\.resutl \(did you mean 'result'"):
        Policy.from_dict(doc)


def test_policy_unknown_key_in_every_declared_table_is_refused(centre):
    for table in POLICY_KEYS:
        doc: dict[str, object] = _policy_doc(centre)
        doc[table] = [{"surprise": 1}] if table == "require" else {"surprise": 1}
        with pytest.raises(PolicyError, match=rf"unknown key {table}\.surprise"):
            Policy.from_dict(doc)


def test_policy_quorum_true_is_not_a_number(centre):
    doc = _policy_doc(centre)
    doc["log"]["quorum"] = True
    with pytest.raises(PolicyError, match="quorum"):
        Policy.from_dict(doc)


def test_policy_typo_quorom_would_have_let_an_uncosigned_bundle_through(centre, tmp_path):
    """The attack end to end: the policy means 'one witness must cosign'; the bundle has no
    cosignature. Spelled right the bundle fails; misspelled, the policy is refused."""
    bundle = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))])
    _, witness = generate_key("witness.test/w1", cosignature=True)
    for spelling, refused in (("quorum", False), ("quorom", True)):
        path = tmp_path / f"{spelling}.json"
        doc = _policy_doc(centre)
        doc["log"].update({"witnesses": [witness], spelling: 1})
        path.write_text(json.dumps(doc))
        if refused:
            with pytest.raises(PolicyError, match="did you mean 'quorum'"):
                Policy.load(path)
        else:
            assert not verify(DIGEST, bundle, Policy.load(path), None).ok


def test_policy_that_is_not_utf8_is_refused_not_a_traceback(centre, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_bytes(b'[log]\norigin = "caf\xe9"\n')
    with pytest.raises(PolicyError, match="not UTF-8"):
        Policy.load(path)


def test_policy_nested_100000_deep_is_refused(tmp_path):
    for name, text in (("p.json", "[" * 100_000), ("p.toml", "a = " + "[" * 100_000)):
        (tmp_path / name).write_text(text)
        with pytest.raises(PolicyError, match="nest"):
            Policy.load(tmp_path / name)


def test_policy_from_dev_zero_is_refused_at_the_cap():
    with pytest.raises(PolicyError, match="larger than the limit"):
        Policy.load(Path("/dev/zero"))


# --- 1.4 Parsing ---------------------------------------------------------------------------------


def test_bundle_of_100000_brackets_is_refused_not_a_recursion_error():
    for data in (b"[" * 100_000, b'{"a":' * 100_000):
        with pytest.raises(BundleError, match="nested deeper than 32"):
            Bundle.parse(data)


def test_bundle_brackets_inside_strings_do_not_count_as_nesting():
    doc = parse_json(b'{"a": "[[[[\\"{{{{", "b": [[1]]}', what="test", max_depth=3)
    assert doc == {"a": '[[[["{{{{', "b": [[1]]}


@pytest.mark.parametrize("size", ['"21"', "1.9", "21.0", "true", "-1", "18446744073709551616"])
def test_bundle_consistency_size_that_is_not_a_json_integer_is_refused(centre, size):
    data = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))]).to_json()
    doc = json.loads(data)
    doc["consistency"] = {"fromSize": 1, "toSize": 2, "proof": []}
    assert Bundle.parse(json.dumps(doc).encode()).consistency is not None
    text = json.dumps(doc).replace('"fromSize": 1', f'"fromSize": {size}')
    with pytest.raises(BundleError, match="JSON integers"):
        Bundle.parse(text.encode())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"mediaType": "a", "mediaType": "b"}', "appears twice"),
        (b'{"n": NaN}', "NaN is not a JSON number"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "too long"),
        (b'{"n": "\xff"}', "not UTF-8"),
    ],
)
def test_bundle_json_tricks_are_refused(data, message):
    with pytest.raises(BundleError, match=message):
        Bundle.parse(data)


def test_bundle_entry_or_receipt_that_is_not_a_string_is_refused(centre):
    data = centre.bundle([centre.log(sign(manifest_for(), centre.vendor))]).to_json()
    for member, value in (("entry", 12), ("receipt", ["c2sp.org/tlog-proof@v1"])):
        doc = json.loads(data)
        doc["attestations"][0][member] = value
        with pytest.raises(BundleError, match=f"'{member}' is missing or not a string"):
            Bundle.parse(json.dumps(doc).encode())


RECEIPT = "c2sp.org/tlog-proof@v1\nindex {}\n\nexample.com/log\n1\n{}\n"


@pytest.mark.parametrize("index", ["\u0666", "\u0661\u0662", "+6", " 6", "6 ", "0_6", "06", "²"])
def test_receipt_index_in_arabic_indic_digits_or_with_signs_is_refused(index):
    root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert Receipt.parse(RECEIPT.format("6", root)).index == 6
    with pytest.raises(InvalidProof, match="not a decimal number"):
        Receipt.parse(RECEIPT.format(index, root))


def test_receipt_index_beyond_64_bits_is_refused():
    root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    with pytest.raises(InvalidProof):
        Receipt.parse(RECEIPT.format("1" + "0" * 20, root))


@pytest.mark.parametrize("size", ["\u0666", "+6", "6_0", " 6"])
def test_checkpoint_size_in_other_digits_is_refused(size):
    root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    with pytest.raises(InvalidCheckpoint):
        Checkpoint.parse(f"example.com/log\n{size}\n{root}\n")


def test_tile_path_in_other_digits_is_refused():
    assert parse_key("tile/0/006").index == 6
    for key in ("tile/\u0660/006", "tile/0/00\u0666", "tile/0/000.p/\u0666"):
        with pytest.raises(InvalidTilePath):
            parse_key(key)


def test_decimal_accepts_ascii_digits_only():
    assert [parse_decimal(t) for t in ("0", "6", "18446744073709551615")] == [0, 6, 2**64 - 1]
    for text in (
        "",
        "\u0666",
        "٦٦",
        "1_0",
        "+1",
        "-1",
        " 1",
        "1 ",
        "01",
        "1e3",
        "18446744073709551616",
    ):
        assert parse_decimal(text) is None, text
    assert parse_decimal("007", canonical=False) == 7


# --- 1.1 Unbounded reads: the shared reader --------------------------------------------------


def test_read_from_dev_zero_stops_at_the_cap():
    with pytest.raises(InputTooLarge, match="larger than the limit of 1,000 bytes"):
        read_capped("/dev/zero", 1000, what="bundle")


def test_read_of_a_big_regular_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big"
    with path.open("wb") as f:
        f.truncate(10 << 30)  # sparse: 10 GiB that cost nothing
    with pytest.raises(InputTooLarge, match="10,737,418,240 bytes, over the limit"):
        read_capped(path, 1 << 20, what="bundle")


def test_read_from_a_fifo_nobody_writes_gives_up_at_the_deadline(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not complete within 0\.5 s"):
        read_capped(fifo, 1000, what="policy", deadline=0.5)


def test_read_from_a_fifo_that_streams_forever_stops_at_the_cap(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write_forever() -> None:
        with open(fifo, "wb") as f:
            try:
                while not stop.is_set():
                    f.write(b"[" * 65536)
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=write_forever)
    writer.start()
    try:
        with pytest.raises(InputTooLarge):
            read_capped(fifo, 1 << 20, what="bundle")
    finally:
        stop.set()
        writer.join(10)
    assert not writer.is_alive()


def test_read_of_a_directory_or_missing_file_says_so(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_capped(tmp_path, 1000, what="receipt")
    with pytest.raises(InputError, match="does not exist"):
        read_capped(tmp_path / "nothing", 1000, what="receipt")


def test_parse_json_errors_are_malformed_input():
    with pytest.raises(MalformedInput, match="not JSON"):
        parse_json(b"{", what="bundle")


def _nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_nesting, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_nesting, value), default=0)
    return 0


def test_json_depth_counts_like_a_parser_whatever_the_strings_hold():
    import random

    rng = random.Random(12)
    tricky = ["[", "]", "{", "}", '"', "\\", '\\"', "\\\\", '\\\\"', "a", "\u0666"]

    def build(level: int) -> object:
        if level == 0 or rng.random() < 0.3:
            return "".join(rng.choice(tricky) for _ in range(rng.randrange(6)))
        if rng.random() < 0.5:
            return [build(level - 1) for _ in range(rng.randrange(4))]
        return {build(0): build(level - 1) for _ in range(rng.randrange(4))}  # type: ignore[misc]

    for _ in range(500):
        doc = build(rng.randrange(12))
        data = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        assert json_depth(data) == _nesting(doc), data
