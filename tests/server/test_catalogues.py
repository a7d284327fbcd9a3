"""Control catalogues: standards bodies publish OSCAL catalogs, each version a logged fact;
everyone reads them; nobody else publishes; bad documents are refused with the reason."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client
from tests.portal.a11y import problems
from tests.server.conftest import RELEASE, _member, put

from clearroom.server.accounts.models import Organisation
from clearroom.server.demo_standards import DOCUMENT
from clearroom.server.standards.models import Catalogue
from clearroom.server.transparency.models import LogEntry
from clearroom.tlog import facts

PUBLISH = "/api/organisations/forum/catalogues/iot-baseline"
BODY = json.dumps(DOCUMENT, indent=1).encode()


@pytest.fixture
def forum(world):
    body = Organisation.objects.create(slug="forum", name="IoT Forum", kind="standards_body")
    owner = _member("forum-owner", body, "owner")
    viewer = _member("forum-viewer", body, "viewer")
    return {
        "owner": world.client(world.token_for(owner, body)),
        "viewer": world.client(world.token_for(viewer, body)),
    }


def post(client: Client, body: bytes, url: str = PUBLISH):
    return client.post(url, data=body, content_type="application/json")


def test_a_standards_body_publishes_a_version_everyone_can_read_and_check(
    world, forum, own_log, log_writer
):
    made = post(forum["owner"], BODY)
    assert made.status_code == 201, made.content
    assert (
        made.json()["version"] == "1.0"
        and made.json()["sha256"] == hashlib.sha256(BODY).hexdigest()
    )
    log_writer()

    anyone = Client()
    listed = anyone.get("/api/organisations/forum/catalogues").json()
    assert [(c["slug"], c["version"]) for c in listed] == [("iot-baseline", "1.0")]
    detail = anyone.get("/api/catalogues/forum/iot-baseline/1.0").json()
    assert [c["id"] for c in detail["controls"]] == [
        "iot-1.1",
        "iot-2.1",
        "iot-2.2",
        "iot-3.1",
        "iot-3.2",
    ]
    assert detail["controls"][0]["group"] == "Passwords" and detail["log"]["index"] is not None
    oscal = anyone.get("/api/catalogues/forum/iot-baseline/1.0/oscal")
    assert oscal.content == BODY  # the publisher's document, byte for byte

    fact = facts.parse_fact(bytes(LogEntry.objects.get(fact=facts.CATALOGUE).entry))
    assert (fact["organisation"], fact["catalogue"], fact["version"]) == (
        "forum",
        "iot-baseline",
        "1.0",
    )
    assert fact["sha256"] == hashlib.sha256(oscal.content).hexdigest() and fact["controls"] == 5

    found = anyone.get(f"/api/log/entries?sha256={fact['sha256']}").json()
    assert [e["entry"]["fact"] for e in found] == [facts.CATALOGUE]  # as VERIFYING says
    assert found[0]["receipt"]  # provable offline

    page = anyone.get("/orgs/forum/-/catalogues/iot-baseline/1.0/").content.decode()
    assert "No universal default passwords" in page and fact["sha256"] in page
    assert problems(page) == []  # the portal's accessibility basics
    assert "Consumer IoT security baseline (demo)" in anyone.get("/orgs/forum/").content.decode()


def test_a_version_is_published_once_and_a_new_one_beside_it(world, forum, own_log):
    assert post(forum["owner"], BODY).status_code == 201
    again = post(forum["owner"], BODY)
    assert again.status_code == 409 and "new version" in again.json()["detail"]
    newer = json.loads(BODY)
    newer["catalog"]["metadata"]["version"] = "1.1"
    assert post(forum["owner"], json.dumps(newer).encode()).status_code == 201
    assert Catalogue.objects.filter(slug="iot-baseline").count() == 2


def test_only_a_standards_bodys_publishers_publish(world, forum, own_log):
    vendor_owner = world.client(world.token)  # a vendor's maintainer, every scope
    assert post(vendor_owner, BODY, "/api/organisations/acme/catalogues/x").status_code == 403
    assert post(forum["viewer"], BODY).status_code == 403
    assert post(Client(), BODY).status_code == 401
    assert post(vendor_owner, BODY).status_code in (403, 404)  # not its organisation
    assert not Catalogue.objects.exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "not JSON"),
        (b'{"catalog": {"uuid": "x"}}', "RFC 4122"),
        (json.dumps({"catalog": {**DOCUMENT["catalog"], "groups": []}}).encode(), "no controls"),
    ],
)
def test_unusable_documents_are_refused_with_the_reason(world, forum, own_log, body, says):
    refused = post(forum["owner"], body)
    assert refused.status_code == 422 and says in refused.json()["detail"]
    assert not Catalogue.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (BODY.replace(b'"title":', b'"title": "Forged", "title":', 1), "'title' appears twice"),
        (BODY.replace(b'"version": "1.0"', b'"version": NaN', 1), "NaN is not a JSON number"),
    ],
    ids=["duplicate-key", "nan"],
)
def test_catalogue_upload_with_duplicate_keys_or_nan_is_refused_with_the_reason(
    world, forum, own_log, body, says
):
    refused = post(forum["owner"], body)
    assert refused.status_code == 422, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    assert says in refused.json()["detail"]
    assert not Catalogue.objects.exists() and not LogEntry.objects.exists()


def test_a_bad_slug_and_an_oversized_document_are_refused(world, forum, own_log):
    assert (
        post(forum["owner"], BODY, PUBLISH.replace("iot-baseline", "Bad_Slug")).status_code == 422
    )
    huge = post(forum["owner"], b" " * (16 * 1024 * 1024 + 1))
    assert huge.status_code == 413


def test_a_missing_catalogue_is_not_found(world, forum):
    assert Client().get("/api/catalogues/forum/nothing/1.0").status_code == 404
    assert Client().get("/orgs/forum/-/catalogues/nothing/1.0/").status_code == 404


def test_an_evaluation_against_a_catalogue_takes_verdicts_on_its_controls(world, forum, own_log):
    assert post(forum["owner"], BODY).status_code == 201
    vendor = world.client(world.token)
    assert put(vendor, "firmware.bin", b"firmware").status_code == 201
    assert vendor.post(f"{RELEASE}/publish").status_code == 200
    lab = world.client(world.token_for(world.evaluator, world.lab))

    def ask(body):
        return lab.post(f"{RELEASE}/evaluations", json.dumps(body), "application/json")

    assert ask({"catalogue": "forum/iot-baseline"}).status_code == 422  # no version
    assert ask({"catalogue": "forum/iot-baseline@9.9"}).status_code == 404
    made = ask({"catalogue": "forum/iot-baseline@1.0"})
    assert made.status_code == 201, made.content
    ref = made.json()["ref"]
    assert made.json()["catalogue"] == "forum/iot-baseline@1.0"
    assert made.json()["standard"] == "Consumer IoT security baseline (demo) 1.0"
    accepted = vendor.post(f"/api/evaluations/{ref}/accept", "{}", "application/json")
    assert accepted.status_code == 200

    def verdict(requirement):
        body = {"requirement": requirement, "value": "pass", "rationale": "checked"}
        return lab.post(f"/api/evaluations/{ref}/verdicts", json.dumps(body), "application/json")

    refused = verdict("5.1-1")
    assert refused.status_code == 422 and "iot-1.1" in refused.json()["detail"]
    assert verdict("iot-1.1").status_code == 201
    page = lab.get(f"/evaluations/{ref}/").content.decode()
    assert "1 of 5 controls of the catalogue assessed" in page
    assert "A public vulnerability disclosure policy" in page and "not yet" in page
