"""Evaluations, findings and threads through the API: the journeys, the workflow's rules, the
logged facts, and the abuse cases (expired grants, guessed ids, oversized or script-bearing
messages)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from tests.server.conftest import _member, put

from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates.slsa import make_vsa
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE, Subject
from clearroom.server.accounts.models import Membership, Organisation
from clearroom.server.audit.models import AuditEvent
from clearroom.server.authz import Actor
from clearroom.server.catalog import services as catalog
from clearroom.server.catalog.models import AccessGrant
from clearroom.server.collaboration.models import Evaluation, ReviewFinding
from clearroom.server.notifications.models import Notification
from clearroom.server.transparency.models import LogEntry

SECRET = b"the design of the router\n"
FIRMWARE = b"router firmware 1.0.0\n"
RELEASE_API = "/api/products/acme/router/releases/1.0.0"
CONTENT = f"{RELEASE_API}/artifacts/design.bin/content"


def _json(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def published(world, own_log, log_writer):
    vendor = world.client(world.token)
    assert put(vendor, "firmware.bin", FIRMWARE).status_code == 201
    assert (
        put(vendor, "design.bin", SECRET, query="?confidentiality=confidential").status_code == 201
    )
    assert vendor.post(f"{RELEASE_API}/publish").status_code == 200
    log_writer()
    lab_owner = _member("lab-owner", world.lab, Membership.Role.OWNER)
    customer_org = Organisation.objects.create(slug="telco", name="Telco", kind="customer")
    customer = _member("operator-eve", customer_org, Membership.Role.EXPERT)
    expert = _member("vendor-expert", world.vendor, Membership.Role.EXPERT)
    return {
        "vendor": vendor,
        "lab": world.client(world.token_for(world.evaluator, world.lab)),
        "lab_owner": world.client(world.token_for(lab_owner, world.lab)),
        "customer": world.client(world.token_for(customer, customer_org)),
        "expert": world.client(world.token_for(expert, world.vendor)),
        "outsider": world.client(world.token_for(world.outsider, world.outsider_org)),
        "log": log_writer,
    }


def _evaluation(parties, standard="ETSI EN 303 645 v2.1.1"):
    made = _json(parties["lab"], f"{RELEASE_API}/evaluations", {"standard": standard})
    assert made.status_code == 201, made.content
    return made.json()["ref"]


def test_an_evaluation_from_request_to_signed_report(world, published):
    AccessGrant.objects.all().delete()  # the world's standing product grant would blur this
    lab, vendor = published["lab"], published["vendor"]
    assert lab.get(CONTENT).status_code == 404  # no access before the vendor accepts
    ref = _evaluation(published)
    assert Notification.objects.filter(organisation=world.vendor, kind="evaluation").exists()

    until = (timezone.now() + timedelta(days=30)).isoformat()
    accepted = _json(vendor, f"/api/evaluations/{ref}/accept", {"access_until": until})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert body["state"] == "accepted" and body["access_until"]
    assert {c["check"] for c in body["checks"]} == {
        "sbom",
        "vulnerabilities",
        "signed-manifest",
        "transparency-log",
    }
    assert b"".join(lab.get(CONTENT).streaming_content) == SECRET
    read = AuditEvent.objects.filter(action="material:artifact:read", outcome="allowed").last()
    assert (read.actor_name, read.actor_organisation_slug) == ("evaluator", "lab")

    verdict = {"requirement": "5.1-1", "value": "pass", "rationale": "no default passwords"}
    assert _json(lab, f"/api/evaluations/{ref}/verdicts", verdict).status_code == 201
    finding = {"title": "Debug port open", "severity": "high", "body": "UART gives a shell"}
    raised = _json(lab, f"/api/evaluations/{ref}/findings", finding)
    assert raised.status_code == 201 and raised.json()["evaluation"] == ref

    key = FileSigner.generate()
    owner = published["lab_owner"]
    event = KeyEvent("lab", "add", key.public_key, datetime(2026, 1, 1, tzinfo=UTC))
    registered = owner.post(
        "/api/organisations/lab/keys",
        data=sign_envelope(PAYLOAD_TYPE, event.to_statement().to_json(), [key]).to_json(),
        content_type="application/json",
    )
    assert registered.status_code == 201, registered.content
    vsa = make_vsa(
        [Subject("firmware.bin", {"sha256": hashlib.sha256(FIRMWARE).hexdigest()})],
        "https://lab.example/evaluator",
        timezone.now(),
        "clearroom:acme/router@1.0.0",
        "https://www.etsi.org/deliver/etsi_en/303600_303699/303645/",
        None,
        [],
        "PASSED",
        ["ETSI_EN_303_645"],
    )
    report = sign_envelope(PAYLOAD_TYPE, vsa.to_json(), [key]).to_json()
    unsigned_by_lab = sign_envelope(PAYLOAD_TYPE, vsa.to_json(), [FileSigner.generate()])
    refused = lab.post(
        f"/api/evaluations/{ref}/report", unsigned_by_lab.to_json(), "application/json"
    )
    assert refused.status_code == 422 and "registered" in refused.json()["detail"]
    done = lab.post(f"/api/evaluations/{ref}/report", report, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "reported" and done.json()["result"] == "PASSED"
    assert lab.get(CONTENT).status_code == 404  # the report ends the access
    published["log"]()
    assert vendor.get(f"/api/evaluations/{ref}").json()["report_log_index"] is not None


def test_the_showcase_counts_releases_an_evaluator_reproduced(world, published):
    """Binary equivalence on the showcase comes only from logged, passed reports that say the
    evaluator rebuilt the release and got the same binaries."""
    key = FileSigner.generate()
    event = KeyEvent("lab", "add", key.public_key, datetime(2026, 1, 1, tzinfo=UTC))
    published["lab_owner"].post(
        "/api/organisations/lab/keys",
        data=sign_envelope(PAYLOAD_TYPE, event.to_statement().to_json(), [key]).to_json(),
        content_type="application/json",
    )
    showcase = "/orgs/acme/-/showcase/"

    def report(standard: str, result: str, levels: list[str]) -> None:
        ref = _evaluation(published, standard)
        assert _json(published["vendor"], f"/api/evaluations/{ref}/accept").status_code == 200
        vsa = make_vsa(
            [Subject("firmware.bin", {"sha256": hashlib.sha256(FIRMWARE).hexdigest()})],
            "https://lab.example/rebuilder",
            timezone.now(),
            "clearroom:acme/router@1.0.0",
            "https://lab.example/policies/rebuild",
            None,
            [],
            result,
            levels,
        )
        body = sign_envelope(PAYLOAD_TYPE, vsa.to_json(), [key]).to_json()
        done = published["lab"].post(f"/api/evaluations/{ref}/report", body, "application/json")
        assert done.status_code == 200, done.content

    report("rebuild, failed", "FAILED", ["FAILED"])
    report("rebuild", "PASSED", ["SLSA_BUILD_LEVEL_2", "SLSA_BUILD_REPRODUCED"])
    numbers = published["customer"].get(showcase + "?format=json").json()
    assert numbers["releases_reproduced"] == 0  # the report is not in the log yet
    published["log"]()
    numbers = published["customer"].get(showcase + "?format=json").json()
    assert numbers["releases_reproduced"] == 1
    assert numbers["releases"][0]["reproduced_by"] == [world.lab.name]
    html = published["customer"].get(showcase).content.decode()
    assert f"reproduced by {world.lab.name}" in html and "1 of 1 published release" in html


def test_the_vendor_decides_once_and_a_decline_needs_a_reason(world, published):
    ref = _evaluation(published)
    lab, vendor = published["lab"], published["vendor"]
    assert _json(lab, f"/api/evaluations/{ref}/accept").status_code == 403
    assert _json(vendor, f"/api/evaluations/{ref}/decline", {"reason": " "}).status_code == 422
    assert (
        _json(vendor, f"/api/evaluations/{ref}/decline", {"reason": "not now"}).status_code == 200
    )
    assert _json(vendor, f"/api/evaluations/{ref}/accept").status_code == 409
    assert "not now" in Notification.objects.filter(organisation=world.lab).first().text
    again = _json(lab, f"{RELEASE_API}/evaluations", {"standard": "ETSI EN 303 645 v2.1.1"})
    assert again.status_code == 201  # a declined request does not block a new one
    duplicate = _json(lab, f"{RELEASE_API}/evaluations", {"standard": "ETSI EN 303 645 v2.1.1"})
    assert duplicate.status_code == 409


def test_only_evaluators_request_evaluations(published):
    for who in ("customer", "expert"):
        response = _json(published[who], f"{RELEASE_API}/evaluations", {"standard": "X"})
        assert response.status_code == 403, who


def test_access_ends_at_the_expiry_instant(world, published):
    AccessGrant.objects.all().delete()
    ref = _evaluation(published)
    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    accepted = _json(published["vendor"], f"/api/evaluations/{ref}/accept", {"access_until": soon})
    assert accepted.status_code == 200
    assert published["lab"].get(CONTENT).status_code == 200
    grant = Evaluation.objects.get(ref=ref).grant
    AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert published["lab"].get(CONTENT).status_code == 404
    too_long = (timezone.now() + timedelta(days=400)).isoformat()
    other = _evaluation(published, standard="EN 18031-1")
    refused = _json(
        published["vendor"], f"/api/evaluations/{other}/accept", {"access_until": too_long}
    )
    assert refused.status_code == 422


def test_a_finding_through_its_workflow(world, published):
    customer, expert = published["customer"], published["expert"]
    raised = _json(
        customer,
        f"{RELEASE_API}/findings",
        {"title": "Telnet enabled", "severity": "critical", "body": "Port 23 answers"},
    )
    assert raised.status_code == 201
    ref = raised.json()["ref"]
    url = f"/api/findings/{ref}"

    def move(client, status, note=""):
        return _json(client, f"{url}/status", {"status": status, "note": note})

    assert move(customer, "acknowledged").status_code == 409  # the vendor's move
    assert move(expert, "verified").status_code == 409  # the raiser's move
    assert move(expert, "acknowledged").status_code == 200
    assert move(expert, "disputed").status_code == 422  # needs a reason
    assert move(expert, "fixed").status_code == 200
    assert move(expert, "acknowledged").status_code == 409  # not from fixed
    verified = move(customer, "verified")
    assert verified.status_code == 200
    history = verified.json()["history"]
    assert [h["to"] for h in history] == ["acknowledged", "fixed", "verified"]
    fact = LogEntry.objects.filter(fact="clearroom.dev/finding/v1").get()
    entry = json.loads(bytes(fact.entry))
    assert (entry["status"], entry["finding"], entry["by"]) == ("verified", ref, "telco")
    assert Notification.objects.filter(organisation__slug="telco", kind="finding").exists()


def test_accepting_a_risk_is_logged_with_only_a_digest_of_the_reason(published):
    raised = _json(
        published["customer"],
        f"{RELEASE_API}/findings",
        {"title": "Old TLS", "severity": "medium", "body": "TLS 1.0 offered"},
    ).json()
    reason = "legacy management clients; disabled in 1.1"
    moved = _json(
        published["expert"],
        f"/api/findings/{raised['ref']}/status",
        {"status": "risk_accepted", "note": reason},
    )
    assert moved.status_code == 200 and moved.json()["justification"] == reason
    entry = json.loads(bytes(LogEntry.objects.get(fact="clearroom.dev/finding/v1").entry))
    assert entry["justification_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert reason not in json.dumps(entry)


def test_assignment_and_mentions_notify_people(world, published):
    raised = _json(
        published["customer"],
        f"{RELEASE_API}/findings",
        {"title": "Weak RNG", "severity": "high", "body": "@vendor-expert please look"},
    ).json()
    mention = Notification.objects.get(kind="mention")
    assert mention.user.username == "vendor-expert"
    url = f"/api/findings/{raised['ref']}/assign"
    assert _json(published["vendor"], url, {"username": "outsider"}).status_code == 422
    assert _json(published["vendor"], url, {"username": "vendor-expert"}).status_code == 200
    assert _json(published["customer"], url, {"username": "vendor-expert"}).status_code == 403
    assert Notification.objects.filter(kind="mention", user__username="vendor-expert").count() == 2


def test_questions_and_answers(world, published):
    asked = _json(
        published["customer"],
        "/api/products/acme/router/questions",
        {"subject": "Secure boot?", "body": "Is secure boot on by default?", "version": "1.0.0"},
    )
    assert asked.status_code == 201
    ref = asked.json()["ref"]
    reply = _json(published["expert"], f"/api/threads/{ref}/messages", {"body": "Yes, since 0.9"})
    assert reply.status_code == 201 and reply.json()["organisation"] == "acme"
    thread = published["customer"].get(f"/api/threads/{ref}").json()
    assert [m["body"] for m in thread["messages"]] == [
        "Is secure boot on by default?",
        "Yes, since 0.9",
    ]
    too_long = _json(published["expert"], f"/api/threads/{ref}/messages", {"body": "x" * 20_001})
    assert too_long.status_code == 413
    own = _json(
        published["expert"], "/api/products/acme/router/questions", {"subject": "a", "body": "b"}
    )
    assert own.status_code == 422  # the vendor does not ask itself


def test_guessing_other_parties_objects_answers_404_and_is_recorded(world, published):
    raised = _json(
        published["customer"],
        f"{RELEASE_API}/findings",
        {"title": "Private", "severity": "low", "body": "between telco and acme"},
    ).json()
    outsider = published["outsider"]
    seen = outsider.get(f"/api/findings/{raised['ref']}")
    missing = outsider.get("/api/findings/00000000-0000-4000-8000-000000000000")
    assert seen.status_code == missing.status_code == 404
    assert seen.json()["detail"].replace(raised["ref"], "X") == missing.json()["detail"].replace(
        "00000000-0000-4000-8000-000000000000", "X"
    )
    assert outsider.get("/api/findings/not-a-uuid").status_code == 404
    assert AuditEvent.objects.filter(
        outcome="denied", actor_name="outsider", target=f"finding {raised['ref']}"
    ).exists()
    lab = published["lab"]  # a grantee of the product, but not a party to this finding
    assert lab.get(f"/api/findings/{raised['ref']}").status_code == 404


def test_messages_are_escaped_in_the_portal(world, published, client):
    script = "<script>alert('x')</script>"
    raised = _json(
        published["customer"],
        f"{RELEASE_API}/findings",
        {"title": "XSS attempt", "severity": "low", "body": script},
    ).json()
    customer = world.client()
    user = Membership.objects.get(organisation__slug="telco").user
    customer.force_login(user)
    page = customer.get(f"/findings/{raised['ref']}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert script not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_findings_list_only_for_the_parties(world, published):
    _json(
        published["customer"],
        f"{RELEASE_API}/findings",
        {"title": "Seen by two", "severity": "low", "body": "b"},
    )
    assert ReviewFinding.objects.count() == 1
    assert published["lab"].get("/api/evaluations").json() == []


def test_token_scoped_to_one_product_lists_no_other_evaluations(world):
    """The evaluations list applies the detail route's rule: a token that cannot read
    evaluations lists none, and one narrowed to a product lists only that product's."""
    switch = catalog.create_product(
        Actor(world.maintainer), world.vendor, slug="switch", name="Switch", category="network"
    )
    catalog.create_release(Actor(world.maintainer), switch, version="2.0.0")
    for release in (world.product.releases.get(), switch.releases.get()):
        Evaluation.objects.create(release=release, evaluator=world.lab, standard="EN 18031-1")
    write_only = world.client(
        world.token_for(
            world.maintainer, world.vendor, ["vendor:release:write"], product=world.product
        )
    )
    listed = write_only.get("/api/evaluations")
    assert listed.status_code == 200 and listed.json() == []
    ref = str(Evaluation.objects.get(release__product=world.product).ref)
    assert write_only.get(f"/api/evaluations/{ref}").status_code == 403  # as the detail says
    router_reader = world.client(
        world.token_for(
            world.maintainer, world.vendor, ["evaluation:evaluation:read"], product=world.product
        )
    )
    assert [e["release"]["product"] for e in router_reader.get("/api/evaluations").json()] == [
        "router"
    ]
    everything = world.client(world.token)
    assert len(everything.get("/api/evaluations").json()) == 2
    lab_token = world.client(world.token_for(world.evaluator, world.lab, ["finding:finding:raise"]))
    assert lab_token.get("/api/evaluations").json() == []
