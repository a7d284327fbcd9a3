"""witness_client.py against the real witness server (clearroom.cli.witness, on a free port in
a thread) over real trees: first checkpoint, growth, the 409 retry from the witness's size, a
split view refused and kept as evidence, quorum, and hostile or broken answers."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clearroom.cli.witness import load_witness, make_server
from clearroom.tlog.checkpoint import open_checkpoint
from clearroom.tlog.errors import NotEnoughCosignatures, WitnessConflict, WitnessError
from clearroom.tlog.note import CosignatureSigner, Signer
from clearroom.tlog.witness import SIZE_CONTENT_TYPE, MemoryWitnessState, Witness, encode_request
from clearroom.tlog.witness_client import WitnessEndpoint, cosign_with_witnesses, submit
from tests.tlog.test_witness import LOG, ORIGIN, W1, Log

W1V = W1.verifier()


@dataclass
class Served:
    url: str
    port: int
    witness: Witness
    state: Path

    @property
    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.url, W1V)


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    key = tmp_path / "witness.key"
    key.write_text(W1.to_key() + "\n")
    key.chmod(0o600)
    witness = load_witness(key, [LOG.verifier().to_key()], tmp_path / "state")
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Served(f"http://127.0.0.1:{port}/", port, witness, tmp_path / "state")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def cosigners_of(note: bytes) -> int:
    _, cosigs = open_checkpoint(note, LOG.verifier(), cosigners=[W1V])
    return len(cosigs)


# --- submit --------------------------------------------------------------------------------


def test_first_checkpoint_then_growth(served):
    log = Log(5)
    note = log.checkpoint()
    lines = submit(note, 0, [], served.url, verifier=W1V)
    assert len(lines) == 1 and cosigners_of(note + lines[0].encode()) == 1
    log.grow(9)
    note = log.checkpoint()
    lines = submit(note, 5, log.proof(5), served.url, verifier=W1V)
    assert cosigners_of(note + "".join(lines).encode()) == 1


def test_a_stale_old_size_raises_conflict_with_the_witness_size(served):
    log = Log(5)
    submit(log.checkpoint(), 0, [], served.url)
    log.grow(4)
    with pytest.raises(WitnessConflict) as caught:
        submit(log.checkpoint(), 0, [], served.url)
    assert (caught.value.status, caught.value.size) == (409, 5)


def test_unknown_log_is_a_witness_error(served):
    other = Signer("example.com/other", b"\x22" * 32)
    from clearroom.tlog.checkpoint import Checkpoint, sign_checkpoint

    log = Log(1)
    note = sign_checkpoint(Checkpoint("example.com/other", 1, log.tree.root()), other)
    with pytest.raises(WitnessError) as caught:
        submit(note, 0, [], served.url)
    assert caught.value.status == 404


# --- cosign_with_witnesses -----------------------------------------------------------------


def test_conflict_is_retried_once_from_the_witness_size(served):
    log = Log(5)
    submit(log.checkpoint(), 0, [], served.url)
    log.grow(7)
    asked: list[int] = []

    def proof_from(old: int) -> list[bytes]:
        asked.append(old)
        return log.proof(old)

    sizes: dict[str, int] = {}
    note = cosign_with_witnesses(log.checkpoint(), proof_from, [served.endpoint], known_sizes=sizes)
    assert cosigners_of(note) == 1
    assert asked == [5] and sizes == {served.url: 12}
    # With the size remembered, the next round needs no retry.
    log.grow(8)
    note = cosign_with_witnesses(log.checkpoint(), proof_from, [served.endpoint], known_sizes=sizes)
    assert cosigners_of(note) == 1
    assert asked == [5, 12] and sizes == {served.url: 20}


def test_a_checkpoint_already_cosigned_is_cosigned_again_after_a_failed_publish(served):
    log = Log(5)
    submit(log.checkpoint(), 0, [], served.url)  # cosigned, then the log crashed before storing
    note = cosign_with_witnesses(log.checkpoint(), log.proof, [served.endpoint])
    assert cosigners_of(note) == 1


def test_split_view_is_refused_not_retried_and_kept_as_evidence(served):
    honest, forked = Log(5), Log(5, fork=b"evil ", fork_at=1)
    cosign_with_witnesses(honest.checkpoint(), honest.proof, [served.endpoint])
    with pytest.raises(NotEnoughCosignatures) as caught:
        cosign_with_witnesses(forked.checkpoint(), forked.proof, [served.endpoint])
    failure = caught.value.failures[served.url]
    assert failure.status == 409 and not isinstance(failure, WitnessConflict)
    evidence = list((served.state / "evidence").iterdir())
    assert len(evidence) == 1
    assert b"same size, different root" in evidence[0].read_bytes()


def test_a_fork_that_grew_fails_its_proof(served):
    honest, forked = Log(5), Log(11, fork=b"evil ", fork_at=2)
    cosign_with_witnesses(honest.checkpoint(), honest.proof, [served.endpoint])
    with pytest.raises(NotEnoughCosignatures) as caught:
        cosign_with_witnesses(forked.checkpoint(), forked.proof, [served.endpoint])
    assert caught.value.failures[served.url].status == 422
    assert len(list((served.state / "evidence").iterdir())) == 1


def test_a_witness_ahead_of_the_checkpoint_is_reported(served):
    log = Log(10)
    cosign_with_witnesses(log.checkpoint(), log.proof, [served.endpoint])
    with pytest.raises(NotEnoughCosignatures) as caught:
        cosign_with_witnesses(log.checkpoint(4), log.proof, [served.endpoint])
    assert "ahead" in caught.value.failures[served.url].reason


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_quorum_counts_the_witnesses_that_cosigned(served):
    log = Log(3)
    down = WitnessEndpoint(f"http://127.0.0.1:{free_port()}", W1V)
    note = cosign_with_witnesses(log.checkpoint(), log.proof, [served.endpoint, down], timeout=5)
    assert cosigners_of(note) == 1
    with pytest.raises(NotEnoughCosignatures) as caught:
        cosign_with_witnesses(
            log.checkpoint(), log.proof, [served.endpoint, down], min_cosignatures=2, timeout=5
        )
    assert caught.value.failures[down.url].status is None
    assert "2 required" in str(caught.value)


def test_a_cosignature_by_another_key_is_ignored(served):
    stranger = CosignatureSigner("witness.example/w1", b"\x77" * 32).verifier()
    with pytest.raises(NotEnoughCosignatures) as caught:
        cosign_with_witnesses(
            Log(2).checkpoint(), Log(2).proof, [WitnessEndpoint(served.url, stranger)]
        )
    assert "no valid cosignature" in caught.value.failures[served.url].reason


# --- the HTTP server -----------------------------------------------------------------------


def raw(served, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        conn.putrequest(method, path)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def test_get_root_names_the_witness_key_and_its_logs(served):
    status, _, body = raw(served, "GET", "/")
    assert status == 200
    assert W1V.to_key().encode() in body and ORIGIN.encode() in body


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("GET", "/nope", {}, None, 404),
        ("POST", "/nope", {"Content-Length": "0"}, b"", 404),
        ("POST", "/add-checkpoint", {}, None, 411),
        ("POST", "/add-checkpoint", {"Content-Length": "-1"}, None, 400),
        ("POST", "/add-checkpoint", {"Content-Length": "1000000000"}, None, 413),
        ("POST", "/add-checkpoint", {"Content-Length": "9" * 5000}, None, 413),
        ("POST", "/add-checkpoint", {"Content-Length": "7"}, b"garbage", 400),
    ],
)
def test_bad_http_requests_get_an_answer(served, method, path, headers, body, status):
    assert raw(served, method, path, body, headers)[0] == status
    assert raw(served, "GET", "/")[0] == 200  # still serving


def test_a_truncated_body_is_400(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(
            b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nold 0"
        )
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100).startswith(b"HTTP/1.1 400 ")


def test_keep_alive_serves_several_requests_on_one_connection(served):
    log = Log(3)
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    try:
        for old, proof in ((0, []), (3, [])):
            conn.request(
                "POST", "/add-checkpoint", body=encode_request(old, proof, log.checkpoint())
            )
            response = conn.getresponse()
            assert response.status == 200, response.read()
            response.read()
        conn.request("POST", "/add-checkpoint", body=encode_request(0, [], log.checkpoint()))
        response = conn.getresponse()
        assert (response.status, response.getheader("Content-Type")) == (409, SIZE_CONTENT_TYPE)
        assert response.read() == b"3\n"
    finally:
        conn.close()


def test_an_internal_failure_is_a_500_and_the_server_lives_on(served, caplog):
    log = Log(3)
    submit(log.checkpoint(), 0, [], served.url)
    record = next(served.state.glob("*.json"))
    good = record.read_bytes()
    record.write_bytes(b"{not json")
    with pytest.raises(WitnessError) as caught:
        submit(log.checkpoint(), 3, [], served.url)
    assert caught.value.status == 500
    assert "add-checkpoint failed" in caplog.text
    record.write_bytes(good)
    assert submit(log.checkpoint(), 3, [], served.url, verifier=W1V)


# --- hostile witnesses ---------------------------------------------------------------------


class Rogue(BaseHTTPRequestHandler):
    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        status, headers, body = self.answer
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def rogue() -> Iterator[tuple[str, type[Rogue]]]:
    handler = type("RogueHandler", (Rogue,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, {}, b"\xe2\x80\x94 w " + b"A" * 40_000 + b"\n"), "answer over"),
        ((200, {}, b"hello\n"), "not a list of note signature lines"),
        ((200, {}, b""), "not a list of note signature lines"),
        ((409, {"Content-Type": SIZE_CONTENT_TYPE}, b"05\n"), "not a decimal"),
        ((302, {"Location": "http://127.0.0.1:1/"}, b""), "unexpected answer"),
        ((503, {}, b"down for maintenance"), "down for maintenance"),
    ],
)
def test_hostile_or_broken_answers_are_witness_errors(rogue, answer, reason):
    url, handler = rogue
    handler.answer = answer
    with pytest.raises(WitnessError) as caught:
        submit(Log(1).checkpoint(), 0, [], url, verifier=W1V)
    assert reason in caught.value.reason
    assert not isinstance(caught.value, WitnessConflict)


class FullDisk(MemoryWitnessState):
    def advance(self, origin, expected, new):
        raise OSError(28, "No space left on device")


def test_a_failing_state_write_is_a_500_not_a_cosignature(caplog):
    witness = Witness(W1, {ORIGIN: LOG.verifier()}, FullDisk())
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with pytest.raises(WitnessError) as caught:
            submit(Log(2).checkpoint(), 0, [], f"http://127.0.0.1:{server.server_address[1]}")
        assert caught.value.status == 500
        assert "No space left" in caplog.text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
