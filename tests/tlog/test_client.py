"""Fetching a log (clearroom.tlog.client): a real HTTP server on 127.0.0.1 serving a log
directory, misbehaving servers (404, 500, oversized, slow, dripping), the directory and
object-store fetchers, and the spec rules on top (caps, partial → full fall-back, lengths)."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clearroom.blobs import LocalObjectStore
from clearroom.tlog.client import (
    MAX_TILE_BYTES,
    DirectoryFetcher,
    FetchLimits,
    HttpFetcher,
    ObjectStoreFetcher,
    TileClient,
    TileNodeReader,
    bundle_leaf_hashes,
    fetch_ahead,
    open_fetcher,
)
from clearroom.tlog.errors import (
    FetchError,
    InvalidInput,
    InvalidTile,
    MissingTile,
    ObjectMissing,
    ResponseTooLarge,
)
from clearroom.tlog.layout import CHECKPOINT_KEY, TileRef, bundle_key, tile_key
from clearroom.tlog.merkle import MemoryTree, consistency_proof
from clearroom.tlog.monitor import Monitor
from clearroom.tlog.tiles import TileLog
from tests.tlog.test_monitor import SimulatedLog, entries


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _Misbehaving(BaseHTTPRequestHandler):
    """``/big`` sends 9000 bytes with no Content-Length (HTTP/1.0, the end is the close);
    ``/error`` is a 500; ``/slow`` answers after 2 s; ``/drip`` sends a byte every 50 ms."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        if name == "error":
            self.send_error(500, "boom")
            return
        if name == "slow":
            time.sleep(2)
        self.send_response(200)
        self.end_headers()
        try:
            if name == "drip":
                for _ in range(60):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                self.wfile.write(b"x" * 9000)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _serve(handler: type[BaseHTTPRequestHandler] | functools.partial[_Quiet]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/log"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    sim = SimulatedLog(tmp_path / "root" / "log")
    sim.append(entries(0, 300))
    (tmp_path / "root" / "log" / "vkey").write_text(sim.verifier.to_key())
    return tmp_path / "root" / "log"


@pytest.fixture
def served(log_dir: Path) -> Iterator[str]:
    yield from _serve(functools.partial(_Quiet, directory=str(log_dir.parent)))


@pytest.fixture
def misbehaving() -> Iterator[str]:
    yield from _serve(_Misbehaving)


# --- HTTP ---------------------------------------------------------------------------------------


def test_http_fetcher_reads_a_served_log(served: str, log_dir: Path) -> None:
    with HttpFetcher(served + "/") as fetcher:
        assert fetcher.fetch(CHECKPOINT_KEY, 1 << 20) == (log_dir / "checkpoint").read_bytes()
        assert (
            fetcher.fetch(tile_key(0, 0), MAX_TILE_BYTES) == (log_dir / tile_key(0, 0)).read_bytes()
        )


def test_monitor_over_http_end_to_end(served: str, log_dir: Path) -> None:
    from clearroom.tlog.note import parse_verifier_key

    with HttpFetcher(served) as fetcher:
        report = Monitor(fetcher, parse_verifier_key((log_dir / "vkey").read_text())).run()
    assert (report.size, report.entries_checked, report.bundles_fetched) == (300, 300, 2)


def test_http_404_is_a_missing_object_and_a_missing_tile(served: str) -> None:
    with HttpFetcher(served) as fetcher:
        with pytest.raises(ObjectMissing) as caught:
            fetcher.fetch(tile_key(0, 7), MAX_TILE_BYTES)
        assert caught.value.location.endswith(tile_key(0, 7))
        with pytest.raises(MissingTile) as missing:
            TileClient(fetcher).tile(TileRef(0, 7, 12))  # neither .p/12 nor the full tile
        assert missing.value.key == tile_key(0, 7, 12)


def test_http_body_over_the_declared_cap_is_refused_before_reading(served: str) -> None:
    with HttpFetcher(served) as fetcher, pytest.raises(ResponseTooLarge) as caught:
        fetcher.fetch(tile_key(0, 0), 100)
    assert (caught.value.limit, caught.value.size) == (100, MAX_TILE_BYTES)


def test_http_body_without_a_length_stops_at_the_cap(misbehaving: str) -> None:
    with HttpFetcher(misbehaving) as fetcher, pytest.raises(ResponseTooLarge) as caught:
        fetcher.fetch("big", MAX_TILE_BYTES)
    assert caught.value.size is None
    assert "8192-byte cap" in str(caught.value)


def test_http_server_error_is_a_fetch_error(misbehaving: str) -> None:
    with HttpFetcher(misbehaving) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch("error", 100)
    assert "HTTP 500" in str(caught.value)
    assert not isinstance(caught.value, ObjectMissing)


def test_http_timeout_is_a_fetch_error(misbehaving: str) -> None:
    with HttpFetcher(misbehaving, timeout=0.2) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch("slow", 100)
    assert "timed out" in str(caught.value)


def test_http_server_dripping_bytes_hits_the_deadline(misbehaving: str) -> None:
    started = time.monotonic()
    with (
        HttpFetcher(misbehaving, timeout=1, deadline=0.5) as fetcher,
        pytest.raises(FetchError) as caught,
    ):
        fetcher.fetch("drip", 1000)
    assert "not complete after 0.5 s" in str(caught.value)
    assert time.monotonic() - started < 2


def test_http_unreachable_server_is_a_fetch_error() -> None:
    with HttpFetcher("http://127.0.0.1:9/log", timeout=1) as fetcher, pytest.raises(FetchError):
        fetcher.fetch(CHECKPOINT_KEY, 100)


# --- Directory and object store -----------------------------------------------------------------


def test_directory_fetcher(log_dir: Path) -> None:
    fetcher = DirectoryFetcher(log_dir)
    assert fetcher.fetch(CHECKPOINT_KEY, 1 << 20).startswith(b"example.com/log\n300\n")
    with pytest.raises(ObjectMissing):
        fetcher.fetch(tile_key(3, 0), MAX_TILE_BYTES)
    with pytest.raises(ResponseTooLarge) as caught:
        fetcher.fetch(tile_key(0, 0), 8191)
    assert caught.value.size == 8192
    with pytest.raises(InvalidInput):
        fetcher.fetch("../secret", 100)
    with pytest.raises(InvalidInput):
        fetcher.fetch(CHECKPOINT_KEY, -1)


def test_directory_fetcher_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        DirectoryFetcher(tmp_path / "nothing")


def test_object_store_fetcher(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("checkpoint", b"x" * 10)
    fetcher = ObjectStoreFetcher(store)
    assert fetcher.fetch("checkpoint", 10) == b"x" * 10
    with pytest.raises(ResponseTooLarge):
        fetcher.fetch("checkpoint", 9)
    with pytest.raises(ObjectMissing):
        fetcher.fetch(tile_key(0, 0), 9)


def test_open_fetcher_picks_by_location(tmp_path: Path) -> None:
    with open_fetcher("https://log.example/") as http:
        assert isinstance(http, HttpFetcher) and http.base_url == "https://log.example/"
    assert isinstance(open_fetcher(str(tmp_path)), DirectoryFetcher)
    with pytest.raises(InvalidInput):
        open_fetcher("s3://bucket/log")


# --- TileClient and TileNodeReader --------------------------------------------------------------


def test_tile_client_falls_back_from_a_deleted_partial_to_the_full_object(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    log = TileLog(store)
    log.append(0, entries(0, 300))
    log.append(300, entries(300, 300))
    store.delete(tile_key(0, 1, 44))
    store.delete(bundle_key(1, 44))
    client = TileClient(ObjectStoreFetcher(store))
    assert client.tile(TileRef(0, 1, 44)) == store.get(tile_key(0, 1))[: 44 * 32]
    data, got = client.bundle(TileRef(None, 1, 44))
    assert (data, got) == (store.get(bundle_key(1)), TileRef(None, 1))
    assert (client.stats.tiles, client.stats.bundles) == (1, 1)


def test_tile_client_checks_tile_lengths(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put(tile_key(0, 0, 3), b"\x00" * 95)
    with pytest.raises(InvalidTile) as caught:
        TileClient(ObjectStoreFetcher(store)).tile(TileRef(0, 0, 3))
    assert "not a whole number" in str(caught.value)


def test_tile_client_refuses_the_wrong_kind_of_object(tmp_path: Path) -> None:
    client = TileClient(ObjectStoreFetcher(LocalObjectStore(tmp_path)))
    with pytest.raises(InvalidInput):
        client.tile(TileRef(None, 0))
    with pytest.raises(InvalidInput):
        client.bundle(TileRef(0, 0))


@pytest.mark.parametrize(
    "limits", [{"tile_bytes": 0}, {"tile_bytes": 8193}, {"bundle_bytes": 1 << 30}]
)
def test_fetch_limits_cannot_exceed_the_spec(limits: dict[str, int]) -> None:
    with pytest.raises(InvalidInput):
        FetchLimits(**limits)


def test_node_reader_over_fetched_tiles_gives_the_same_proofs(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    leaves = entries(0, 70_000)
    TileLog(store).append(0, leaves)
    from clearroom.tlog.hashing import leaf_hash

    tree = MemoryTree(leaf_hash(e) for e in leaves)
    reader = TileNodeReader(TileClient(ObjectStoreFetcher(store)), 70_000)
    for old in (1, 255, 256, 65_536, 69_999):
        assert consistency_proof(reader, old, 70_000) == consistency_proof(tree, old, 70_000)
    with pytest.raises(InvalidInput):
        reader.node(0, 70_000)


# --- Bulk reading -------------------------------------------------------------------------------


def test_bundle_leaf_hashes_agree_with_the_reference_decoder_on_good_and_damaged_bundles() -> None:
    from clearroom.tlog.bundles import decode_bundle, encode_bundle
    from clearroom.tlog.errors import InvalidBundle
    from clearroom.tlog.hashing import leaf_hash

    rng = random.Random(5)
    for _ in range(300):
        count = rng.randint(1, 256)
        bundle = encode_bundle([rng.randbytes(rng.choice([0, 1, 40, 300])) for _ in range(count)])
        damaged = rng.choice(
            [
                bundle,
                bundle[: rng.randrange(len(bundle) + 1)],
                bundle + b"\x00",
                bundle + b"\x00\x01x",
            ]
        )
        try:
            want = b"".join(leaf_hash(e) for e in decode_bundle(damaged, count))
        except InvalidBundle:
            with pytest.raises(InvalidBundle):
                bundle_leaf_hashes(damaged, count, "k")
        else:
            assert bundle_leaf_hashes(damaged, count, "k") == want


def test_fetch_ahead_keeps_order_and_raises_the_first_error_in_turn() -> None:
    def work(i: int) -> int:
        time.sleep(0.001 * (i % 3))
        if i == 7:
            raise ValueError(i)
        return i * i

    assert list(fetch_ahead(range(7), work, 4)) == [i * i for i in range(7)]
    seen = []
    with pytest.raises(ValueError):
        for value in fetch_ahead(range(20), work, 4):
            seen.append(value)
    assert seen == [i * i for i in range(7)]
