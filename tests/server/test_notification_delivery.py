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
from http.server import BaseHTTPRequestHandler, HTTPServer

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
