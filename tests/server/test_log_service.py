"""Publishing puts facts in the transparency log; the API serves their entries, receipts and
proofs; every answer verifies with the log's published key alone."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from tests.server.conftest import RELEASE, put

from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.hashing import leaf_hash
from clearroom.tlog.merkle import verify_consistency, verify_inclusion
from clearroom.tlog.note import parse_verifier_key
from clearroom.tlog.receipt import Receipt, verify_receipt

FIRMWARE = b"firmware image bytes"
SOURCE = b"confidential source archive"
SBOM = b'{"bomFormat": "CycloneDX", "specVersion": "1.6"}'


def _publish(world, log_writer=None):
    client = world.client(world.token)
    assert put(client, "fw.bin", FIRMWARE).status_code == 201
    assert put(client, "src.tar", SOURCE, query="?confidentiality=confidential").status_code == 201
    assert (
        put(client, "bom.json", SBOM, collection="documents", query="?kind=sbom").status_code == 201
    )
    response = client.post(f"{RELEASE}/publish")
    assert response.status_code == 200, response.content
    if log_writer is not None:
        log_writer()
    return client


def _log_key(client):
    info = client.get("/api/log").json()
    return info, parse_verifier_key(info["verifier_key"])


def test_publishing_records_one_canonical_fact_per_release_and_file(world, own_log):
    _publish(world)
    rows = list(LogEntry.objects.order_by("id"))
    assert [r.fact for r in rows] == [facts.RELEASE, facts.ARTIFACT, facts.ARTIFACT, facts.DOCUMENT]
    assert all(r.index is None for r in rows)  # committed, waiting for the log's writer
    parsed = [facts.parse_fact(bytes(r.entry)) for r in rows]
    release = parsed[0]
    assert release["release"] == {"vendor": "acme", "product": "router", "version": "1.0.0"}
    assert release["state"] == "published"
    assert sorted(f["sha256"] for f in release["files"]) == sorted(
        hashlib.sha256(b).hexdigest() for b in (FIRMWARE, SOURCE, SBOM)
    )
    by_digest = {p.get("sha256"): p for p in parsed[1:]}
    assert by_digest[hashlib.sha256(FIRMWARE).hexdigest()]["name"] == "fw.bin"
    confidential = by_digest[hashlib.sha256(SOURCE).hexdigest()]
    assert confidential["confidentiality"] == "confidential" and "name" not in confidential
    assert by_digest[hashlib.sha256(SBOM).hexdigest()]["kind"] == "sbom"
    for row in rows:
        assert row.leaf_hash == leaf_hash(bytes(row.entry)).hex()


def test_a_refused_publication_logs_nothing(world, own_log):
    response = world.client(world.token).post(f"{RELEASE}/publish")  # no artifacts yet
    assert response.status_code == 409
    assert not LogEntry.objects.exists()


def test_publishing_pushes_back_when_the_log_is_behind(world, own_log, settings):
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, tlog_max_backlog=2)
    client = world.client(world.token)
    put(client, "fw.bin", FIRMWARE)
    put(client, "fw2.bin", SOURCE)
    response = client.post(f"{RELEASE}/publish")  # 3 facts > 2
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["type"].endswith("log-backlog")
    assert client.get(RELEASE).json()["state"] == "draft"
    assert not LogEntry.objects.exists()


def test_every_fact_gets_an_index_and_a_receipt_that_verifies_offline(world, log_writer):
    client = _publish(world, log_writer)
    info, verifier = _log_key(client)
    assert info["size"] == 4 and info["waiting"] == 0
    checkpoint, _ = open_checkpoint(info["checkpoint"].encode(), verifier)
    assert checkpoint.size == 4

    release = client.get(RELEASE).json()
    refs = [release["log"][0], *(f["log"] for f in release["artifacts"] + release["documents"])]
    assert sorted(ref["index"] for ref in refs) == [0, 1, 2, 3]
    for ref in refs:
        entry = client.get(ref["url"]).json()
        data = base64.b64decode(entry["entry_base64"])
        assert json.loads(data) == entry["entry"]
        text = client.get(ref["url"] + "/receipt").content.decode()
        assert text == entry["receipt"]
        verified, _ = verify_receipt(Receipt.parse(text), data, verifier)
        assert verified.size == 4
        with pytest.raises(Exception, match="root"):
            verify_receipt(Receipt.parse(text), data + b" ", verifier)


def test_withdrawal_is_a_fact_too(world, log_writer):
    client = _publish(world, log_writer)
    response = client.post(f"{RELEASE}/withdraw", {"reason": "CVE-2026-1234"}, "application/json")
    assert response.status_code == 200
    log_writer()
    refs = client.get(RELEASE).json()["log"]
    assert [r["index"] for r in refs] == [0, 4]
    withdrawn = client.get(refs[1]["url"]).json()["entry"]
    assert withdrawn["state"] == "withdrawn" and withdrawn["reason"] == "CVE-2026-1234"


def test_lookup_by_file_digest_and_by_entry_hash(world, log_writer):
    client = _publish(world, log_writer)
    digest = hashlib.sha256(FIRMWARE).hexdigest()
    found = client.get(f"/api/log/entries?sha256={digest}").json()
    assert [e["entry"]["name"] for e in found] == ["fw.bin"]
    entry = found[0]
    for key in (entry["leaf_hash"], entry["entry_sha256"], entry["leaf_hash"].upper()):
        assert [e["index"] for e in client.get(f"/api/log/entries?hash={key}").json()] == [
            entry["index"]
        ]
    assert client.get(f"/api/log/entries?index={entry['index']}").json()[0] == entry
    assert client.get(f"/api/log/entries?sha256={'0' * 64}").json() == []


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/log/entries", 422, "give one of"),
        ("/api/log/entries?hash=abc", 422, "64 hexadecimal"),
        ("/api/log/entries/zz", 422, "64 hexadecimal"),
        (f"/api/log/entries/{'0' * 64}", 404, "no log entry"),
        ("/api/log/proof/4", 422, "not in the tree of size 4"),
        ("/api/log/proof/0?tree_size=5", 422, "at most the published size"),
        ("/api/log/proof/0?tree_size=0", 422, "between 1 and"),
        ("/api/log/consistency?old_size=0", 422, "between 1 and"),
        ("/api/log/consistency?old_size=3&new_size=2", 422, "at most new_size"),
        ("/log/tile/0/0", 404, "tile"),
        ("/log/tile/0/000.p/0", 404, "width"),
        ("/log/tile/entries/001", 404, "no tile/entries/001"),
    ],
)
def test_bad_log_queries_get_specific_errors(world, log_writer, url, status, says):
    client = _publish(world, log_writer)
    response = client.get(url)
    assert response.status_code == status
    body = response.content.decode()
    assert says in body


def test_proofs_by_index_and_between_sizes_verify(world, log_writer):
    client = _publish(world, log_writer)
    first = client.get("/api/log").json()
    client.post(f"{RELEASE}/withdraw", {"reason": "superseded"}, "application/json")
    log_writer()
    info, verifier = _log_key(client)
    new, _ = open_checkpoint(info["checkpoint"].encode(), verifier)
    old_root = base64.b64decode(first["root_hash"])
    for index in range(new.size):
        row = LogEntry.objects.get(index=index)
        proof = client.get(f"/api/log/proof/{index}").json()
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        verify_inclusion(leaf_hash(bytes(row.entry)), index, new.size, hashes, new.root_hash)
    old_proof = client.get("/api/log/proof/1?tree_size=4").json()
    verify_inclusion(
        bytes.fromhex(LogEntry.objects.get(index=1).leaf_hash),
        1,
        4,
        [base64.b64decode(h) for h in old_proof["hashes"]],
        old_root,
    )
    consistency = client.get("/api/log/consistency?old_size=4").json()
    assert consistency["new_size"] == new.size == 5
    hashes = [base64.b64decode(h) for h in consistency["hashes"]]
    verify_consistency(4, 5, hashes, old_root, new.root_hash)


def test_the_log_is_served_as_static_tiles(world, log_writer, client):
    _publish(world, log_writer)
    checkpoint = client.get("/log/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint["Cache-Control"] == "no-cache"
    key = client.get("/log/key").content.decode().strip()
    open_checkpoint(checkpoint.content, parse_verifier_key(key))
    tile = client.get("/log/tile/0/000.p/4")
    assert tile.status_code == 200 and len(tile.content) == 4 * 32
    assert "immutable" in tile["Cache-Control"]
    bundle = client.get("/log/tile/entries/000.p/4")
    assert bundle.status_code == 200
    assert client.post("/log/checkpoint").status_code == 405
