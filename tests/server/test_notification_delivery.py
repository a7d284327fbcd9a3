"""Notifications leave the centre by email (a real SMTP server, aiosmtpd, on loopback) and by
signed webhooks (a real HTTP receiver on loopback), as each person and organisation chose."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from clearroom.jobs.models import Job
from clearroom.server.accounts.models import Membership
from clearroom.server.authz import Actor
from clearroom.server.errors import Invalid
from clearroom.server.notifications import delivery, services
from clearroom.server.notifications.models import Delivery, Notification
from clearroom.server.notifications.tasks import next_digest


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, smtp_host="127.0.0.1", smtp_port=port, email_from="centre@clearroom.test"
    )
    yield inbox
    controller.stop()


@pytest.fixture
def receiver(settings):
    """An HTTP endpoint on loopback that records what it is sent (private targets allowed)."""
    got: list[tuple[dict, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CONFIG = dataclasses.replace(settings.CONFIG, webhook_allow_private=True)
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(world):
    for user, address in ((world.maintainer, "mia@acme.test"), (world.viewer, "vic@acme.test")):
        user.email = address
        user.save()
    return world


def _notify(world, kind="finding", **kwargs):
    defaults = {"organisations": [world.vendor], "url": "/findings/x/"}
    return services.notify(kind, "A finding was raised", **{**defaults, **kwargs})[0]


def _queued(kind: str) -> list[dict]:
    """The arguments of the jobs of ``kind`` waiting in whichever backend is configured."""
    if settings.CONFIG.jobs_backend == "procrastinate":
        from procrastinate.contrib.django.models import ProcrastinateJob

        return [j.args for j in ProcrastinateJob.objects.filter(task_name=kind)]
    return [j.args for j in Job.objects.filter(kind=kind)]


def test_each_notification_is_queued_for_delivery(people):
    made = _notify(people)
    assert {"notification": made.pk} in _queued("notifications.deliver")


def test_a_mention_is_emailed_at_once(people, smtp):
    note = _notify(people, "mention", organisations=[], users=[people.maintainer])
    assert delivery.deliver(note) == {"emails": 1, "digest": 0, "webhooks": 0}
    (message,) = smtp.messages
    assert message["To"] == "mia@acme.test" and message["From"] == "centre@clearroom.test"
    assert "A finding was raised" in message["Subject"]
    assert "http://127.0.0.1:8000/findings/x/" in message.get_payload()


def test_the_rest_waits_for_one_daily_digest(people, smtp):
    for text in ("first", "second"):
        delivery.deliver(services.notify("finding", text, organisations=[people.vendor])[0])
    assert smtp.messages == []
    assert Delivery.objects.filter(state="pending").count() == 4  # two people, two notes
    assert delivery.send_digest(people.maintainer) == 2
    (digest,) = smtp.messages
    body = digest.get_payload()
    assert "2 notifications" in digest["Subject"] and "first" in body and "second" in body
    assert delivery.send_digest(people.maintainer) == 0  # nothing twice


def test_choices_are_per_person_and_kind(people, smtp):
    services.set_preferences(Actor(people.viewer), {"finding": "off"})
    services.set_preferences(Actor(people.maintainer), {"finding": "immediate"})
    delivery.deliver(_notify(people))
    assert [m["To"] for m in smtp.messages] == ["mia@acme.test"]
    with pytest.raises(Invalid):
        services.set_preferences(Actor(people.viewer), {"finding": "hourly"})
    assert services.preferences(Actor(people.viewer))["mention"] == "immediate"


def test_without_a_mail_server_nothing_is_sent_and_nothing_fails(people):
    note = _notify(people, "mention", organisations=[], users=[people.maintainer])
    assert delivery.deliver(note)["emails"] == 1  # chosen, but smtp_host is empty: skipped


def test_the_digest_waits_for_six_in_the_morning():
    from datetime import UTC, datetime

    assert next_digest(datetime(2026, 5, 1, 5, 0, tzinfo=UTC)).hour == 6
    assert next_digest(datetime(2026, 5, 1, 7, 0, tzinfo=UTC)).day == 2


def test_webhooks_are_signed_and_filtered_by_kind(people, receiver):
    url, got = receiver
    hook, secret = services.add_webhook(Actor(people.maintainer), people.vendor, url, ["finding"])
    delivery.deliver(_notify(people))
    delivery.deliver(_notify(people, "thread"))
    ((headers, body),) = got
    payload = json.loads(body)
    assert payload["kind"] == "finding" and payload["organisation"] == "acme"
    stamp, sent = headers["Clearroom-Signature"].split(",")
    timestamp = stamp.removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert sent == f"v1={expected.hexdigest()}"
    hook.refresh_from_db()
    assert hook.last_status == "204"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost:8000/x",
        "ftp://example.org/x",
    ],
)
def test_private_webhook_targets_are_refused(people, target):
    with pytest.raises(Invalid):
        services.add_webhook(Actor(people.maintainer), people.vendor, target, [])


def test_a_target_that_turns_private_is_refused_at_delivery(people, receiver, settings):
    url, got = receiver
    services.add_webhook(Actor(people.maintainer), people.vendor, url, [])
    settings.CONFIG = dataclasses.replace(settings.CONFIG, webhook_allow_private=False)
    with pytest.raises(RuntimeError, match="private, loopback"):
        delivery.deliver(_notify(people))
    assert got == []
    assert Notification.objects.count() == 1


def test_webhooks_through_the_api(people, receiver):
    url, _ = receiver
    Membership.objects.filter(user=people.maintainer).update(role="owner")
    owner = people.client(people.token_for(people.maintainer, people.vendor))
    made = owner.post(
        "/api/organisations/acme/webhooks",
        json.dumps({"url": url, "kinds": ["finding"]}),
        content_type="application/json",
    )
    assert made.status_code == 201 and len(made.json()["secret"]) >= 40
    listed = owner.get("/api/organisations/acme/webhooks").json()
    assert "secret" not in listed[0]
    viewer = people.client(people.token_for(people.viewer, people.vendor))
    assert viewer.get("/api/organisations/acme/webhooks").status_code == 403
    gone = owner.post(f"/api/organisations/acme/webhooks/{listed[0]['id']}/delete")
    assert gone.status_code == 200 and owner.get("/api/organisations/acme/webhooks").json() == []


@pytest.fixture
def endless_receiver(settings):
    """A receiver on loopback that answers 200 and then streams its body forever: as fast as
    it can, one byte every 50 ms (``?drip``), or not at all (``?silent``), until the caller
    hangs up. It counts what the
    caller took and whether the caller hung up."""
    seen: dict[str, object] = {"hung_up": threading.Event(), "bytes": 0}
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            drip = "drip" in self.path
            piece = b"x" if drip else b"x" * 65536
            if "silent" in self.path:  # headers, then nothing until the caller hangs up
                self.wfile.flush()
                self.rfile.read(1)  # returns when the caller closes the connection
                seen["hung_up"].set()
                return
            try:
                while not stop.is_set():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                    seen["bytes"] += len(piece)
                    if drip:
                        stop.wait(0.05)
            except OSError:
                seen["hung_up"].set()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, webhook_allow_private=True, webhook_timeout_seconds=2.0
    )
    yield f"http://127.0.0.1:{server.server_port}/hook", seen
    stop.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("pace", ["fast", "drip", "silent"])
def test_webhook_receiver_streaming_an_endless_answer_is_cut_off_at_the_cap(
    people, endless_receiver, pace
):
    """The receiver's answer never ends: the delivery reads at most 64 KiB of it (or stops at
    its timeout when it trickles or falls silent), hangs up and records the status, which
    alone decides the delivery; it neither grows the worker's memory nor holds the job."""
    url, seen = endless_receiver
    hook, _ = services.add_webhook(Actor(people.maintainer), people.vendor, f"{url}?{pace}", [])
    assert delivery.deliver(_notify(people))["webhooks"] == 1
    assert seen["hung_up"].wait(30)  # the receiver saw the connection close, bounded generously
    if pace == "fast":
        # what the receiver got out before the hang-up: the cap plus what the sockets buffer
        assert seen["bytes"] < 64 * 1024 * 1024
    hook.refresh_from_db()
    assert hook.last_status == "200"
    assert Delivery.objects.filter(webhook=hook, state="sent").count() == 1


# -- webhook targets: DNS rebinding and the ranges that are not public ----------------------------

PUBLIC_V4, PUBLIC_V6 = "93.184.215.14", "2606:4700:4700::1111"


def _answer(*answers: list[str]):
    """A resolver answering each lookup with the next of ``answers`` (the last one repeats)."""
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolver.calls = calls
    return resolver


def test_webhook_dns_rebinding_to_loopback_is_refused(people, receiver, settings, monkeypatch):
    """The name answers a public address when checked, then 127.0.0.1: the delivery must connect
    to the address it checked, never to what a second lookup says. ``localhost`` is the host so
    that any second lookup by the HTTP client itself would also land on the loopback receiver."""
    url, got = receiver
    port = url.split(":")[2].split("/")[0]
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, webhook_allow_private=False, webhook_timeout_seconds=1.0
    )
    monkeypatch.setattr(delivery, "resolve", _answer([PUBLIC_V4]))
    hook, _ = services.add_webhook(
        Actor(people.maintainer), people.vendor, f"http://localhost:{port}/h", []
    )
    rebinding = _answer([PUBLIC_V4], ["127.0.0.1"])
    monkeypatch.setattr(delivery, "resolve", rebinding)
    with pytest.raises(RuntimeError, match="webhook delivery failed"):
        delivery.deliver(_notify(people))
    assert got == []
    hook.refresh_from_db()
    assert f"connecting to {PUBLIC_V4}" in hook.last_status
    assert rebinding.calls == ["localhost"]  # resolved once, for the check and the connection


def test_webhook_connects_to_the_checked_address_with_its_own_host_name(
    people, receiver, monkeypatch
):
    url, got = receiver
    port = url.split(":")[2].split("/")[0]
    monkeypatch.setattr(delivery, "resolve", _answer(["127.0.0.1"]))
    services.add_webhook(
        Actor(people.maintainer), people.vendor, f"http://hooks.acme.test:{port}/in", []
    )
    delivery.deliver(_notify(people))
    ((headers, _),) = got
    assert headers["Host"] == f"hooks.acme.test:{port}"


def test_a_name_with_any_private_address_is_refused(people, monkeypatch):
    monkeypatch.setattr(delivery, "resolve", _answer([PUBLIC_V4, "10.1.2.3"]))
    with pytest.raises(Invalid, match=r"10\.1\.2\.3"):
        services.add_webhook(Actor(people.maintainer), people.vendor, "https://mixed.test/", [])


def test_public_addresses_are_accepted(people, monkeypatch):
    monkeypatch.setattr(delivery, "resolve", _answer([PUBLIC_V4, PUBLIC_V6]))
    target = delivery.check_target("https://hooks.example/x")
    assert str(target.address) == PUBLIC_V4
    assert str(target.pinned_url()) == f"https://{PUBLIC_V4}/x"


REFUSED_RANGES = {
    "this-network": "0.1.2.3",
    "rfc1918-private": "172.20.0.1",
    "carrier-grade-nat": "100.64.0.1",
    "ietf-protocol-assignments-v4": "192.0.0.9",
    "benchmarking-v4": "198.18.0.1",
    "documentation-v4": "198.51.100.7",
    "deprecated-6to4-relay": "192.88.99.1",
    "multicast-v4": "224.0.0.1",
    "reserved-class-e": "240.0.0.1",
    "limited-broadcast": "255.255.255.255",
    "unspecified-v6": "::",
    "ipv4-mapped-loopback": "::ffff:127.0.0.1",
    "ipv4-mapped-private": "::ffff:10.0.0.1",
    "ipv4-compatible-loopback": "::127.0.0.1",
    "nat64-well-known": "64:ff9b::7f00:1",
    "nat64-local-use": "64:ff9b:1::a00:1",
    "discard-only": "100::1",
    "teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "ietf-protocol-assignments-v6": "2001:1::1",
    "benchmarking-v6": "2001:2::1",
    "orchid-v2": "2001:20::1",
    "documentation-v6": "2001:db8::1",
    "6to4": "2002:7f00:1::1",
    "documentation-3fff": "3fff::1",
    "srv6-sids": "5f00::1",
    "unique-local": "fd00::1",
    "link-local-v6": "fe80::1",
    "site-local": "fec0::1",
    "multicast-v6-global-scope": "ff0e::1",
}


@pytest.mark.parametrize("address", REFUSED_RANGES.values(), ids=REFUSED_RANGES.keys())
def test_webhook_to_a_non_public_range_is_refused(people, monkeypatch, address):
    monkeypatch.setattr(delivery, "resolve", _answer([address]))
    with pytest.raises(Invalid, match="webhooks go to public endpoints only"):
        services.add_webhook(Actor(people.maintainer), people.vendor, "https://hook.test/", [])
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(Invalid):
        delivery.check_target(f"https://{literal}/")


def test_every_row_of_the_table_is_refused_at_both_ends():
    from clearroom.server.notifications.addresses import NOT_PUBLIC, why_not_public

    for row in NOT_PUBLIC:
        for address in (row.network[0], row.network[-1]):
            assert why_not_public(address) is not None, row


def _certificate_authority(tmp_path, host: str):
    """A CA (its certificate written to ca.pem) and a server certificate for ``host``."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject, issuer, key, signer, *, ca: bool, name: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
        if name:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_cert = build("Test CA", "Test CA", ca_key, ca_key, ca=True)
    leaf = build(host, "Test CA", leaf_key, ca_key, ca=False, name=host)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key"


@pytest.fixture
def tls_receiver(settings, tmp_path, monkeypatch):
    """An HTTPS endpoint on loopback with a certificate for hooks.acme.test from a test CA the
    delivery trusts (SSL_CERT_FILE); records each request and the SNI name it was reached by."""
    import ssl

    ca, cert, key = _certificate_authority(tmp_path, "hooks.acme.test")
    got: list[tuple[str | None, dict]] = []
    sni: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append((sni[-1] if sni else None, dict(self.headers)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni.append(name)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    settings.CONFIG = dataclasses.replace(settings.CONFIG, webhook_allow_private=True)
    yield server.server_port, got
    server.shutdown()
    server.server_close()


def test_https_webhook_pinned_to_an_address_keeps_sni_and_certificate_checks(
    people, tls_receiver, monkeypatch
):
    port, got = tls_receiver
    monkeypatch.setattr(delivery, "resolve", _answer(["127.0.0.1"]))
    services.add_webhook(
        Actor(people.maintainer), people.vendor, f"https://hooks.acme.test:{port}/in", []
    )
    delivery.deliver(_notify(people))
    ((server_name, headers),) = got
    assert server_name == "hooks.acme.test" and headers["Host"] == f"hooks.acme.test:{port}"


def test_https_webhook_whose_certificate_names_another_host_is_refused(
    people, tls_receiver, monkeypatch
):
    port, got = tls_receiver
    monkeypatch.setattr(delivery, "resolve", _answer(["127.0.0.1"]))
    services.add_webhook(
        Actor(people.maintainer), people.vendor, f"https://other.acme.test:{port}/in", []
    )
    with pytest.raises(RuntimeError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
        delivery.deliver(_notify(people))
    assert got == []
