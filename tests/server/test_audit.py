"""The tamper-evident audit trail: confidential reads are recorded, sealed in batches whose roots
are logged facts, and any later change to a sealed record - by the operator in the database or by
anyone in an export - is detected."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from tests.server.conftest import put
from typer.testing import CliRunner

from clearroom.cli.audit import app as audit_cli
from clearroom.cli.audit import check_export
from clearroom.server.accounts.models import Membership
from clearroom.server.audit import services
from clearroom.server.audit.models import AuditBatch, AuditEvent
from clearroom.server.transparency.identity import verifier
from clearroom.server.transparency.keeper import LogKeeper

runner = CliRunner()
SECRET = b"the vendor's confidential design\n"


@pytest.fixture
def trail(world, own_log, log_writer):
    """A confidential artifact read three times by the lab's evaluator, once refused to an
    outsider; everything sealed and logged."""
    vendor = world.client(world.token)
    assert (
        put(vendor, "design.bin", SECRET, query="?confidentiality=confidential").status_code == 201
    )
    assert vendor.post("/api/products/acme/router/releases/1.0.0/publish").status_code == 200
    url = "/api/products/acme/router/releases/1.0.0/artifacts/design.bin/content"
    evaluator = world.client(world.token_for(world.evaluator, world.lab))
    for _ in range(3):
        assert evaluator.get(url).status_code == 200
    outsider = world.client(world.token_for(world.outsider, world.outsider_org))
    assert outsider.get(url).status_code == 404
    batches = services.seal(batch_size=2)
    log_writer()
    return world, batches


def test_reads_are_recorded_with_who_and_for_whom(trail):
    reads = AuditEvent.objects.filter(action="material:artifact:read").order_by("id")
    allowed = [e for e in reads if e.outcome == "allowed"]
    assert len(allowed) == 3
    assert {(e.actor_name, e.actor_organisation_slug, e.organisation_slug) for e in allowed} == {
        ("evaluator", "lab", "acme")
    }
    refused = reads.get(outcome="denied")
    assert (refused.actor_name, refused.actor_organisation_slug) == ("outsider", "other")


def test_sealed_batches_chain_and_verify_against_the_log(trail):
    _, batches = trail
    assert [b.sequence for b in batches] == list(range(1, len(batches) + 1))
    assert all(b.count <= 2 for b in batches)
    assert batches[1].previous == batches[0].root
    assert not AuditEvent.objects.filter(batch__isnull=True).exists()
    result = services.verify()
    assert result.ok, result.problems
    assert result.batches == len(batches) and result.not_yet_logged == 0
    assert runner.invoke(audit_cli, ["verify"]).exit_code == 0


def test_an_edited_record_is_detected(trail):
    """The operator changes who read the file, straight in the database."""
    event = AuditEvent.objects.filter(outcome="allowed").order_by("id").first()
    AuditEvent.objects.filter(pk=event.pk).update(actor_name="somebody-else")
    result = services.verify()
    assert not result.ok
    assert f"batch {event.batch.sequence}" in result.problems[0]
    assert "changed, added or deleted" in result.problems[0]
    cli = runner.invoke(audit_cli, ["verify"])
    assert cli.exit_code == 1 and "do not hash to the logged root" in cli.output


def test_a_deleted_record_or_batch_is_detected(trail):
    _, batches = trail
    AuditEvent.objects.filter(batch=batches[0]).order_by("id").first().delete()
    assert any("batch 1" in p for p in services.verify().problems)
    # the operator removes the newest batch whole, records and all: the log still holds it
    AuditEvent.objects.filter(batch=batches[-1]).delete()
    AuditBatch.objects.filter(pk=batches[-1].pk).delete()
    problems = services.verify().problems
    assert any(f"batch {batches[-1].sequence} is in the log" in p for p in problems)


def test_new_records_wait_for_the_next_seal(trail):
    world, _ = trail
    services.record(
        services.Actor(world.viewer), "material:artifact:read", allowed=True, target="x"
    )
    result = services.verify()
    assert result.ok and result.unsealed == 1


def test_the_vendor_exports_its_trail_and_a_third_party_checks_it(trail):
    world, _ = trail
    owner = world.viewer
    Membership.objects.filter(user=owner, organisation=world.vendor).update(role="owner")
    client = world.client(world.token_for(owner, world.vendor))
    response = client.get("/api/organisations/acme/audit")
    assert response.status_code == 200
    exported = response.json()
    assert exported["format"] == "clearroom.dev/audit-export/v1"
    assert {e["record"]["actor"] for e in exported["events"]} >= {"evaluator", "outsider"}
    key = verifier().to_key()
    assert check_export(exported["events"], exported["batches"], key) == []

    forged = json.loads(json.dumps(exported))
    forged["events"][0]["record"]["ip"] = "203.0.113.9"
    problems = check_export(forged["events"], forged["batches"], key)
    assert any("changed after sealing" in p for p in problems)

    rerooted = json.loads(json.dumps(exported))
    next(iter(rerooted["batches"].values()))["log_entry"] = "{}"
    assert any("log fact" in p for p in check_export(rerooted["events"], rerooted["batches"], key))


def test_export_file_check_from_the_command_line(trail, tmp_path):
    world, _ = trail
    Membership.objects.filter(user=world.viewer).update(role="owner")
    client = world.client(world.token_for(world.viewer, world.vendor))
    path = tmp_path / "acme-audit.json"
    path.write_bytes(client.get("/api/organisations/acme/audit").content)
    key = verifier().to_key()
    ok = runner.invoke(audit_cli, ["verify", "--export", str(path), "--log-key", key])
    assert ok.exit_code == 0, ok.output
    exported = json.loads(path.read_text())
    exported["events"][-1]["record"]["action"] = "material:artifact:list"
    path.write_text(json.dumps(exported))
    bad = runner.invoke(audit_cli, ["verify", "--export", str(path), "--log-key", key])
    assert bad.exit_code == 1 and "changed after sealing" in bad.output
    garbage = tmp_path / "not-an-export.json"
    garbage.write_text("[1, 2]")
    refused = runner.invoke(audit_cli, ["verify", "--export", str(garbage)])
    assert refused.exit_code != 0 and "is not an exported trail" in str(refused.exception)
    twice = tmp_path / "twice.json"  # two readers must never see two different trails
    twice.write_text('{"events": [], "batches": {}, "events": [1]}')
    refused = runner.invoke(audit_cli, ["verify", "--export", str(twice)])
    assert refused.exit_code != 0 and "appears twice" in str(refused.exception)
    refused = runner.invoke(audit_cli, ["verify", "--export", "/dev/zero"])
    assert refused.exit_code != 0 and "larger than the limit" in str(refused.exception)


def test_who_sees_which_trail(trail):
    world, _ = trail
    Membership.objects.filter(user=world.evaluator).update(role="owner")
    lab = world.client(world.token_for(world.evaluator, world.lab))
    own = lab.get("/api/organisations/lab/audit?format=csv")
    assert own.status_code == 200
    rows = own.content.decode().splitlines()
    assert rows[0].startswith("id,time,action") and len(rows) == 1 + 3  # the lab's three reads
    assert lab.get("/api/organisations/acme/audit").status_code == 403
    viewer = world.client(world.token_for(world.viewer, world.vendor))
    assert viewer.get("/api/organisations/acme/audit").status_code == 403
    assert world.client().get("/api/organisations/acme/audit").status_code == 401


def test_the_log_writer_seals_when_due(world, own_log, settings):
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, audit_seal_seconds=3600)
    keeper = LogKeeper()
    services.record(services.Actor(world.viewer), "x:y:z", allowed=True, target="t")
    keeper.seal_audit_when_due()  # first call: due at once
    assert AuditBatch.objects.count() == 1
    services.record(services.Actor(world.viewer), "x:y:z", allowed=True, target="t")
    keeper.seal_audit_when_due()  # not due for an hour, and far from a full batch
    assert AuditBatch.objects.count() == 1
    settings.CONFIG = dataclasses.replace(settings.CONFIG, audit_batch_size=1)
    keeper.seal_audit_when_due()  # a full batch waits
    assert AuditBatch.objects.count() == 2


def test_the_log_holds_roots_not_records(trail):
    """A confidential file's name is in the trail, which only its parties see; the public log's
    fact carries only the batch's root and counts."""
    _, batches = trail
    fact = json.loads(bytes(batches[0].log_entry.entry))
    assert "design.bin" not in json.dumps(fact) and fact["count"] == batches[0].count


def test_signed_in_404_flood_is_aggregated_not_lost(world, own_log, log_writer):
    """A scanner with a valid token guesses 300 releases and 30 evaluations: two records, which
    count every attempt and name the first targets; once sealed a record never changes, and the
    next attempt starts a new one."""
    prober = world.client(world.token_for(world.outsider, world.outsider_org))
    for i in range(300):
        assert prober.get(f"/api/products/acme/router/releases/9.{i}").status_code == 404
    for i in range(30):
        assert prober.get(f"/api/evaluations/00000000-0000-4000-8000-{i:012d}").status_code == 404
    prober.get("/api/products/acme/router/releases/7.0", REMOTE_ADDR="198.51.100.7")
    denied = AuditEvent.objects.filter(outcome="denied", actor=world.outsider).order_by("id")
    by_kind = {(e.details["kind"], e.ip): e for e in denied}
    assert len(denied) == 3 and set(by_kind) == {
        ("release", "127.0.0.1"),
        ("evaluation", "127.0.0.1"),
        ("release", "198.51.100.7"),
    }
    releases = by_kind[("release", "127.0.0.1")]
    assert releases.details["count"] == 300 and releases.target == "acme/router@9.0"
    assert releases.details["targets"][:2] == ["acme/router@9.0", "acme/router@9.1"]
    assert len(releases.details["targets"]) == services.REFUSAL_TARGETS
    assert by_kind[("evaluation", "127.0.0.1")].details["count"] == 30
    owner = Client()
    owner.force_login(world.outsider)
    assert "and 299 more attempts" in owner.get("/orgs/other/-/audit/").content.decode()

    services.seal()
    log_writer()
    sealed = AuditEvent.objects.get(pk=releases.pk)
    prober.get("/api/products/acme/router/releases/9.999")
    assert AuditEvent.objects.get(pk=releases.pk).details == sealed.details  # never changed
    newest = AuditEvent.objects.filter(actor=world.outsider).order_by("-id").first()
    assert newest.pk != releases.pk and newest.details["count"] == 1
    assert services.verify().ok


def test_a_refusal_after_the_window_starts_a_new_record(world):
    prober = world.client(world.token_for(world.outsider, world.outsider_org))
    prober.get("/api/products/acme/router/releases/9.0")
    first = AuditEvent.objects.get(actor=world.outsider)
    AuditEvent.objects.filter(pk=first.pk).update(
        time=first.time - services.REFUSAL_WINDOW - timedelta(seconds=1)
    )
    prober.get("/api/products/acme/router/releases/9.1")
    counts = list(
        AuditEvent.objects.filter(actor=world.outsider)
        .order_by("id")
        .values_list("details__count", flat=True)
    )
    assert counts == [1, 1]
