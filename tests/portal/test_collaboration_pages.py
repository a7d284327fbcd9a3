"""The portal's collaboration pages, driven through their forms: a regulator requests an
evaluation, the vendor accepts, the regulator reads a confidential file and raises a finding,
the vendor answers with an attachment, and each side's notifications say so."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from clearroom.server.audit.models import AuditEvent
from clearroom.server.collaboration.models import Evaluation, ReviewFinding, Thread
from tests.portal.conftest import World, release_url


@pytest.fixture
def evaluation(world: World) -> Evaluation:
    otto = world.client("outsider")
    response = otto.post(
        release_url(world.published, "request-evaluation"),
        {"standard": "ETSI EN 303 645 v2.1.1", "scope": "the radio firmware"},
    )
    made = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{made.ref}/"
    return made


def test_the_release_page_offers_the_forms_each_party_may_use(world: World) -> None:
    html = world.client("outsider").get(release_url(world.published)).content.decode()
    assert (
        "Request an evaluation" in html and "Raise a finding" in html and "Ask the vendor" in html
    )
    vendor_html = world.client("owner").get(release_url(world.published)).content.decode()
    assert "Request an evaluation" not in vendor_html  # not of its own release
    anonymous = world.client("anonymous").get(release_url(world.published)).content.decode()
    assert "Evaluations, findings and questions" not in anonymous


def test_evaluation_journey_through_the_portal(world: World, evaluation: Evaluation) -> None:
    olga, otto = world.client("owner"), world.client("outsider")
    page = otto.get(f"/evaluations/{evaluation.ref}/")
    assert page.status_code == 200 and "Requested" in page.content.decode()
    assert "Accept and grant access" not in page.content.decode()
    vendor_page = olga.get(f"/evaluations/{evaluation.ref}/").content.decode()
    assert "Accept and grant access" in vendor_page

    decided = olga.post(
        f"/evaluations/{evaluation.ref}/decide",
        {"decision": "accept", "access_until": "2099-01-01"},
    )
    assert decided.status_code == 422  # more than a year away
    olga.post(f"/evaluations/{evaluation.ref}/decide", {"decision": "accept", "access_until": ""})
    evaluation.refresh_from_db()
    assert evaluation.state == "accepted" and evaluation.grant is not None

    download = reverse(
        "api:artifact-content",
        kwargs={
            "org": "acme",
            "product": "edge-router",
            "version": "2.4.1",
            "name": "build-recipe.txt",
        },
    )
    assert otto.get(download).status_code == 200
    assert AuditEvent.objects.filter(actor_name="otto", outcome="allowed").exists()

    otto.post(
        f"/evaluations/{evaluation.ref}/work",
        {"action": "verdict", "requirement": "5.3-2", "value": "fail", "rationale": "no updates"},
    )
    raised = otto.post(
        f"/evaluations/{evaluation.ref}/work",
        {"action": "finding", "title": "No update mechanism", "severity": "high", "body": "none"},
    )
    finding = ReviewFinding.objects.get()
    assert raised["Location"] == f"/findings/{finding.ref}/"
    page = otto.get(f"/evaluations/{evaluation.ref}/").content.decode()
    assert "5.3-2" in page and "No update mechanism" in page and "Automated checks" in page


def test_the_vendor_answers_a_finding_with_an_attachment(
    world: World, evaluation: Evaluation
) -> None:
    olga, otto, mia = world.client("owner"), world.client("outsider"), world.client("maintainer")
    olga.post(f"/evaluations/{evaluation.ref}/decide", {"decision": "accept"})
    otto.post(
        f"/evaluations/{evaluation.ref}/work",
        {"action": "finding", "title": "Open UART", "severity": "medium", "body": "@mia look"},
    )
    finding = ReviewFinding.objects.get()
    url = f"/findings/{finding.ref}/"
    page = mia.get(url).content.decode()
    assert "Change the status" in page and 'value="acknowledged"' in page
    mia.post(f"{url}act", {"action": "status", "status": "acknowledged"})
    posted = mia.post(
        f"{url}act",
        {
            "action": "message",
            "body": "Closed in 2.4.2, see the test log",
            "attachments": SimpleUploadedFile("uart-test.log", b"uart: disabled\n", "text/plain"),
        },
    )
    assert posted.status_code == 302, posted.content.decode()[-3000:]
    finding.refresh_from_db()
    assert finding.status == "acknowledged"
    html = otto.get(url).content.decode()
    assert "Closed in 2.4.2" in html and "uart-test.log" in html
    attachment = finding.thread.messages.last().attachments.get()
    link = reverse(
        "api:attachment", kwargs={"ref": finding.thread.ref, "attachment": attachment.pk}
    )
    got = otto.get(link)
    assert got.status_code == 200 and got.content == b"uart: disabled\n"
    assert AuditEvent.objects.filter(action="thread:attachment:read", actor_name="otto").exists()
    inbox = mia.get("/-/notifications/").content.decode()
    assert "mentioned you" in inbox and "Open UART" in inbox
    assert "is now acknowledged" in otto.get("/-/notifications/").content.decode()


def test_a_question_thread(world: World) -> None:
    otto = world.client("outsider")
    otto.post(
        reverse("portal:ask", args=["acme", "edge-router"]),
        {"subject": "Secure boot", "body": "Enabled by default?", "version": "2.4.1"},
    )
    thread = Thread.objects.get()
    assert thread.release == world.published
    world.client("maintainer").post(f"/threads/{thread.ref}/messages", {"body": "Yes."})
    html = otto.get(f"/threads/{thread.ref}/").content.decode()
    assert "Enabled by default?" in html and "Yes." in html
    assert world.client("viewer").get(f"/threads/{thread.ref}/").status_code == 200
    assert world.client("anonymous").get(f"/threads/{thread.ref}/").status_code == 404


def test_posting_without_the_csrf_token_is_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.outsider)
    response = client.post(
        release_url(world.published, "request-evaluation"), {"standard": "ETSI EN 303 645"}
    )
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_the_inbox_needs_signing_in(world: World) -> None:
    response = world.client("anonymous").get("/-/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _attachment_post(filename_parameter: str, content_type: str = "text/plain") -> bytes:
    boundary = "clearroom-portal-boundary"
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\nSee the log\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        f"{filename_parameter}\r\nContent-Type: {content_type}\r\n\r\nlog line\r\n"
        f"--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("filename_parameter", "content_type"),
    [
        ('filename="../../x.log"', "text/plain"),
        ("filename*=UTF-8''%E2%80%AEgol.exe", "text/plain"),
        ("filename*=UTF-8''a%EF%BC%8Fb.log", "text/plain"),
        ('filename="ok.log"', "text/plain, text/html"),
    ],
    ids=["multipart-traversal", "bidi-override", "fullwidth-solidus", "bad-media-type"],
)
def test_portal_attachment_with_a_bad_name_or_media_type_is_refused_not_rewritten(
    world: World, filename_parameter: str, content_type: str
) -> None:
    from clearroom.server.collaboration.models import Attachment, Message

    otto = world.client("outsider")
    otto.post(
        reverse("portal:ask", args=["acme", "edge-router"]),
        {"subject": "Logs", "body": "Which log?", "version": "2.4.1"},
    )
    thread = Thread.objects.get()
    response = world.client("maintainer").post(
        f"/threads/{thread.ref}/messages",
        data=_attachment_post(filename_parameter, content_type),
        content_type="multipart/form-data; boundary=clearroom-portal-boundary",
    )
    assert response.status_code == 422
    assert not Attachment.objects.exists()
    assert Message.objects.filter(thread=thread).count() == 1  # only the question
