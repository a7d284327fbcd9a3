"""A release's SBOM becomes components, components become findings (VEX applied), and an
advisory import re-evaluates only the releases and packages it changed, notifying followers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.server.conftest import RELEASE, _member, put
from tests.server.test_attestations import _envelope, _key_event

from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates import OPENVEX
from clearroom.attest.statement import PAYLOAD_TYPE, Statement, Subject
from clearroom.sbom.validate import validate_document
from clearroom.server.accounts.models import Organisation
from clearroom.server.catalog import services as catalog
from clearroom.server.catalog.models import Document
from clearroom.server.notifications.models import Notification
from clearroom.server.vulnerabilities import services
from clearroom.server.vulnerabilities.models import (
    Component,
    Evaluation,
    Finding,
    Follow,
    ReleaseSbom,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"


@pytest.fixture
def queued(monkeypatch):
    """The jobs services ask for (kind, arguments), whatever the configured backend."""
    calls: list[tuple[str, dict]] = []

    def record(kind, *, dedupe_key=None, **kwargs):
        calls.append((kind, kwargs))
        return len(calls)

    monkeypatch.setattr(catalog, "enqueue", record)
    monkeypatch.setattr(services, "enqueue", record)
    return calls


@pytest.fixture
def release(world, scan_advisories, queued):
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    for name, kind in (("app.cdx.json", "sbom"), ("vex.openvex.json", "vex")):
        data = (DATA / name).read_bytes()
        assert (
            put(client, name, data, collection="documents", query=f"?kind={kind}").status_code
            == 201
        )
    assert client.post(f"{RELEASE}/publish").status_code == 200
    return world.product.releases.get()


def _ingest(release):
    document = release.documents.get(kind=Document.Kind.SBOM)
    return services.ingest_sbom(document)


def test_an_uploaded_sbom_is_parsed_by_a_job_into_components(world, release, queued):
    assert [kind for kind, _ in queued if kind == "sbom.ingest"] == ["sbom.ingest"]
    parsed = _ingest(release)
    assert parsed.error == "" and parsed.format == "cyclonedx" and parsed.components == 4
    assert parsed.quality["ntia"]["score"] > 0
    assert parsed.validation["valid"] is True  # the strict report, kept beside
    parser = Component.objects.get(release=release, name="parser")
    assert (parser.ecosystem, parser.package) == ("npm", "@acme/parser")
    assert parser.paths == [["app", "webkit", "parser"]]
    assert ("vulns.evaluate", {"release": release.pk}) in queued


def test_findings_with_the_vendors_vex_and_a_notification(world, release):
    lab = Organisation.objects.get(slug="lab")
    Follow.objects.create(organisation=lab, product=world.product)
    _ingest(release)
    evaluation = services.evaluate(release)
    findings = {f.advisory_id: f for f in Finding.objects.filter(release=release)}
    assert findings["GHSA-scan-0001"].status == "affected"
    assert findings["GHSA-scan-0001"].rating == "critical"
    assert findings["GHSA-scan-0002"].status == "not_affected"
    assert findings["GHSA-scan-0002"].vex["justification"] == "vulnerable_code_not_in_execute_path"
    assert evaluation.open_by_severity["critical"] == 1 and evaluation.new_findings == 1
    assert evaluation.snapshot.startswith("sha256:")
    notified = set(Notification.objects.values_list("organisation__slug", flat=True))
    assert notified == {"acme", "lab"}


def test_an_import_re_evaluates_only_the_changed_packages(world, release, tmp_path, queued):
    _ingest(release)
    services.evaluate(release)
    queued.clear()
    new = {
        "schema_version": "1.6.0",
        "id": "GHSA-scan-0009",
        "modified": "2026-03-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    (tmp_path / "new.json").write_text(json.dumps(new))
    report, releases = services.import_advisories([tmp_path / "new.json"])
    assert report.added == 1 and releases == 1
    assert queued == [
        ("vulns.evaluate", {"release": release.pk, "packages": [["npm", "left-pad"]]})
    ]
    services.evaluate(release, [("npm", "left-pad")])
    open_ids = set(
        Finding.objects.filter(release=release, resolved_at__isnull=True).values_list(
            "advisory_id", flat=True
        )
    )
    assert open_ids == {"GHSA-scan-0001", "GHSA-scan-0002", "GHSA-scan-0009"}
    assert Evaluation.objects.filter(release=release).count() == 2


def test_a_finding_that_no_longer_applies_is_resolved_not_deleted(world, release, tmp_path):
    _ingest(release)
    services.evaluate(release)
    withdrawn = json.loads((DATA / "advisories.json").read_text())[0]
    withdrawn.update(modified="2026-06-01T00:00:00Z", withdrawn="2026-06-01T00:00:00Z")
    (tmp_path / "w.json").write_text(json.dumps(withdrawn))
    services.import_advisories([tmp_path / "w.json"])
    services.evaluate(release, [("npm", "webkit")])
    webkit = Finding.objects.get(release=release, advisory_id="GHSA-scan-0001")
    assert webkit.resolved_at is not None and not webkit.is_open


def test_an_unreadable_sbom_is_recorded_not_raised(world, scan_advisories, queued):
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    bad = b'{"bomFormat": "CycloneDX", "components": [ truncated'
    put(client, "bad.cdx.json", bad, collection="documents", query="?kind=sbom")
    document = Document.objects.get(name="bad.cdx.json")
    parsed = services.ingest_sbom(document)
    assert parsed.error and "SBOM" in parsed.error
    assert not Component.objects.exists()
    assert ReleaseSbom.objects.count() == 1


def test_the_api_serves_components_findings_and_exports(world, release):
    _ingest(release)
    services.evaluate(release)
    anonymous = world.client()
    base = RELEASE
    comps = anonymous.get(f"{base}/components?q=pars").json()
    assert comps["total"] == 1 and comps["components"][0]["purl"] == "pkg:npm/%40acme/parser@1.4.0"
    assert comps["sboms"][0]["quality"]["ntia"] > 0
    open_now = anonymous.get(f"{base}/vulnerabilities").json()
    assert [f["advisory"] for f in open_now["findings"]] == ["GHSA-scan-0001"]
    assert open_now["open_by_severity"]["critical"] == 1 and open_now["history"]
    everything = anonymous.get(f"{base}/vulnerabilities?status=all").json()
    assert {f["status"] for f in everything["findings"]} == {"affected", "not_affected"}
    csv_text = anonymous.get(f"{base}/vulnerabilities?format=csv").content.decode()
    assert csv_text.splitlines()[0].startswith("advisory,aliases,rating")
    vdr = anonymous.get(f"{base}/vulnerabilities?format=cyclonedx&status=all").json()

    assert validate_document(vdr).valid
    assert anonymous.get(f"{base}/vulnerabilities?severity=awful").status_code == 422
    assert anonymous.get(f"{base}/vulnerabilities?format=pdf").status_code == 422
    portfolio = anonymous.get("/api/organisations/acme/vulnerabilities").json()
    assert portfolio["releases"][0]["open"] == 1


def test_cyclonedx_export_keeps_vex_justification_and_detail(world, release):
    _ingest(release)
    services.evaluate(release)
    vdr = world.client().get(f"{RELEASE}/vulnerabilities?format=cyclonedx&status=all").json()
    report = validate_document(vdr)  # the official CycloneDX 1.6 schema, strictly
    assert report.valid, [(i.path, i.message) for i in report.issues]
    analysis = {v["id"]: v.get("analysis") for v in vdr["vulnerabilities"]}
    assert analysis["GHSA-scan-0002"] == {  # the vendor's vulnerable_code_not_in_execute_path
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "The streaming mode is never enabled.",
    }
    assert analysis["GHSA-scan-0001"] is None  # no VEX statement: no analysis


def test_csaf_of_a_scanned_release_scores_affected_products_and_passes_oasis_validator(
    world, release, settings, oasis_csaf
):
    import dataclasses

    from django.test import Client

    from clearroom.server.services import blob_store

    settings.CONFIG = dataclasses.replace(settings.CONFIG, base_url="https://centre.example")
    affected = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/app-2",
        "author": "Acme PSIRT",
        "timestamp": "2026-11-03T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2099-1001"},
                "products": [{"@id": "pkg:npm/webkit@2.0.0"}],
                "status": "affected",
                "action_statement": "Upgrade webkit to 2.0.1.",
            }
        ],
    }
    blob = blob_store().put_bytes(json.dumps(affected).encode())
    release.documents.create(
        name="affected.openvex.json", kind="vex", size=blob.size, sha256=blob.sha256
    )
    _ingest(release)
    services.evaluate(release)
    client = Client()
    (path,) = client.get("/.well-known/csaf/white/index.txt").content.decode().split()
    body = client.get(f"/.well-known/csaf/white/{path}").content
    assert oasis_csaf.problems(body) == []  # no allowance: the affected product has its score
    scored = next(v for v in json.loads(body)["vulnerabilities"] if "scores" in v)
    assert scored["cve"] == "CVE-2099-1001"  # GHSA-scan-0001's alias
    assert scored["scores"][0]["cvss_v3"] == {
        "baseScore": 9.8,
        "baseSeverity": "CRITICAL",
        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "version": "3.1",
    }
    release.documents.filter(kind="sbom").update(confidentiality="confidential")
    hidden = json.loads(client.get(f"/.well-known/csaf/white/{path}").content)
    assert all("scores" not in v for v in hidden["vulnerabilities"])  # not from a secret SBOM


def _signed_vex(key, statement_fields, vulnerability="CVE-2099-1001", purl="pkg:npm/webkit@2.0.0"):
    predicate = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/2",
        "author": "Acme PSIRT",
        "timestamp": "2026-11-10T00:00:00Z",
        "version": 2,
        "statements": [
            {
                "vulnerability": {"name": vulnerability},
                "products": [{"@id": purl}],
                **statement_fields,
            }
        ],
    }
    statement = Statement((Subject("app.bin", {"sha256": "ab" * 32}),), OPENVEX, predicate)
    return sign_envelope(PAYLOAD_TYPE, statement.to_json(), [key]).to_json()


def test_a_signed_vex_statement_must_meet_cisa_minimum_and_then_decides(world, release, queued):

    owner = world.client(world.token_for(_member("owner", world.vendor, "owner"), world.vendor))
    key = FileSigner.generate()
    owner.post(
        "/api/organisations/acme/keys",
        data=_envelope(_key_event(key), key),
        content_type="application/json",
    )
    _ingest(release)
    services.evaluate(release)
    client = world.client(world.token)
    url = f"{RELEASE}/attestations"
    lacking = _signed_vex(key, {"status": "not_affected"})
    refused = client.post(url, data=lacking, content_type="application/json")
    assert refused.status_code == 422 and "justification" in refused.json()["detail"]
    good = _signed_vex(
        key, {"status": "not_affected", "justification": "vulnerable_code_not_present"}
    )
    accepted = client.post(url, data=good, content_type="application/json")
    assert accepted.status_code == 201 and accepted.json()["log"] is not None  # logged now
    assert ("vulns.evaluate", {"release": release.pk}) in queued
    services.evaluate(release)
    webkit = Finding.objects.get(release=release, advisory_id="GHSA-scan-0001")
    assert webkit.status == "not_affected" and webkit.vex["signed"] is True
    # A newer signed statement contradicts the older VEX document: newest wins, both shown.
    reversal = _signed_vex(
        key,
        {"status": "affected", "action_statement": "Upgrade to 1.5.0."},
        vulnerability="CVE-2099-1002",
        purl="pkg:npm/%40acme/parser@1.4.0",
    )
    assert client.post(url, data=reversal, content_type="application/json").status_code == 201
    services.evaluate(release)
    parser = Finding.objects.get(release=release, advisory_id="GHSA-scan-0002")
    assert parser.status == "affected" and parser.vex["action_statement"] == "Upgrade to 1.5.0."
    assert [c["status"] for c in parser.vex["conflicts"]] == ["not_affected"]


def test_a_confidential_sboms_contents_reach_only_those_who_may_read_it(
    world, scan_advisories, queued
):
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    data = (DATA / "app.cdx.json").read_bytes()
    query = "?kind=sbom&confidentiality=confidential"
    assert put(client, "app.cdx.json", data, collection="documents", query=query).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    release = world.product.releases.get()
    _ingest(release)
    services.evaluate(release)
    anonymous = world.client()
    assert anonymous.get(f"{RELEASE}/components").json() == {
        "total": 0,
        "sboms": [],
        "components": [],
    }
    hidden = anonymous.get(f"{RELEASE}/vulnerabilities").json()
    assert hidden["findings"] == [] and hidden["history"] == []
    assert (
        anonymous.get("/api/organisations/acme/vulnerabilities").json()["releases"][0]["open"] == 0
    )
    member = client.get(f"{RELEASE}/vulnerabilities").json()
    assert [f["advisory"] for f in member["findings"]] == ["GHSA-scan-0001", "GHSA-scan-0002"]
    assert member["history"]


def test_followers_hear_of_findings_in_public_releases_only(world, scan_advisories, queued):
    lab = Organisation.objects.get(slug="lab")
    Follow.objects.create(organisation=lab, product=world.product)
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    data = (DATA / "app.cdx.json").read_bytes()
    put(client, "app.cdx.json", data, collection="documents", query="?kind=sbom")
    draft = world.product.releases.get()
    _ingest(draft)
    services.evaluate(draft)
    assert set(Notification.objects.values_list("organisation__slug", flat=True)) == {"acme"}


def test_an_import_changing_thousands_of_packages_queues_without_failing(
    world, release, tmp_path, queued
):
    _ingest(release)
    queued.clear()
    records = [
        {
            "id": f"OSV-MANY-{n}",
            "modified": "2026-04-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": f"pkg-{n}"}, "versions": ["1"]}],
        }
        for n in range(2500)
    ]
    records.append(
        {
            **records[0],
            "id": "OSV-MANY-webkit",
            "affected": [
                {"package": {"ecosystem": "npm", "name": "webkit"}, "versions": ["2.0.0"]}
            ],
        }
    )
    folder = tmp_path / "many"
    folder.mkdir()
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    report, releases = services.import_advisories([folder])
    assert len(report.changed_packages) == 2501 and releases == 1
    assert queued == [("vulns.evaluate", {"release": release.pk, "packages": [["npm", "webkit"]]})]


def test_an_unsigned_vex_document_below_cisas_minimum_decides_nothing(
    world, scan_advisories, queued
):
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    put(
        client,
        "app.cdx.json",
        (DATA / "app.cdx.json").read_bytes(),
        collection="documents",
        query="?kind=sbom",
    )
    bare = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [
            {
                "vulnerability": {"name": "CVE-2099-1001"},
                "products": [{"@id": "pkg:npm/webkit@2.0.0"}],
                "status": "not_affected",
            }
        ],
    }
    put(
        client,
        "bare.openvex.json",
        json.dumps(bare).encode(),
        collection="documents",
        query="?kind=vex",
    )
    assert ("vulns.evaluate", {"release": world.product.releases.get().pk}) in queued
    release = world.product.releases.get()
    _ingest(release)
    services.evaluate(release)
    assert Finding.objects.get(advisory_id="GHSA-scan-0001").status == "affected"


def test_follower_notification_counts_only_readable_sboms(world, scan_advisories, queued):
    """A public SBOM lists webkit, a confidential one the whole application: a follower that
    may not read the confidential SBOM hears only of webkit's finding; the lab (which holds a
    grant) and the vendor hear of all of them, and a follower told of nothing gets nothing."""
    telco = Organisation.objects.create(slug="telco", name="Telco", kind="customer")
    lab = Organisation.objects.get(slug="lab")
    for follower in (telco, lab):
        Follow.objects.create(organisation=follower, product=world.product)
    full = json.loads((DATA / "app.cdx.json").read_text())
    public = {
        **full,
        "serialNumber": "urn:uuid:6e1c2a80-6f43-4a9c-9d1c-2f0c9f4d1a11",
        "components": [c for c in full["components"] if c["name"] == "webkit"],
        "dependencies": [{"ref": "app", "dependsOn": ["webkit"]}],
    }
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    for name, body, query in (
        ("public.cdx.json", public, "?kind=sbom"),
        ("app.cdx.json", full, "?kind=sbom&confidentiality=confidential"),
    ):
        answer = put(client, name, json.dumps(body).encode(), collection="documents", query=query)
        assert answer.status_code == 201, answer.content
    assert client.post(f"{RELEASE}/publish").status_code == 200
    release = world.product.releases.get()
    for document in release.documents.filter(kind=Document.Kind.SBOM):
        services.ingest_sbom(document)
    evaluation = services.evaluate(release)
    told = dict(Notification.objects.values_list("organisation__slug", "text"))
    everything = evaluation.new_findings
    assert everything == 3  # webkit's twice (once per SBOM), the parser's once
    assert told["acme"].startswith(f"{everything} new") and told["lab"] == told["acme"]
    assert told["telco"].startswith("1 new vulnerability finding in")

    Notification.objects.all().delete()
    Document.objects.filter(name="public.cdx.json").update(confidentiality="confidential")
    Finding.objects.all().delete()
    services.evaluate(release)
    assert set(Notification.objects.values_list("organisation__slug", flat=True)) == {
        "acme",
        "lab",
    }


def _components_api_and_page(world):
    """The reason as the components API and the portal's components page show it."""
    from django.urls import reverse

    client = world.client()
    api = client.get(f"{RELEASE}/components").json()["sboms"]
    page = client.get(reverse("portal:components", args=["acme", "router", "1.0.0"]))
    assert page.status_code == 200
    return api, page.content.decode()


def _run_jobs_until_done():
    """Run the queue as a worker would, letting each retry fall due at once (no 10 s waits)."""
    from django.utils import timezone

    from clearroom.jobs import run_worker
    from clearroom.jobs.models import Job, JobStatus

    for _ in range(5):
        run_worker(burst=True)
        if not Job.objects.filter(status=JobStatus.QUEUED).update(run_after=timezone.now()):
            return


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ingest_failure_reason_is_stored_and_shown(world, settings):
    # the stored bytes vanish before the job runs: every attempt raises BlobNotFound, which
    # ingest_sbom does not catch; once the last attempt fails, the job's reason is recorded
    import dataclasses

    from clearroom.jobs.models import Job, JobStatus
    from clearroom.server.services import blob_store

    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, blob_store_url="", jobs_backend="inprocess"
    )
    blob_store.cache_clear()
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    data = (DATA / "app.cdx.json").read_bytes()
    put(client, "app.cdx.json", data, collection="documents", query="?kind=sbom")
    assert client.post(f"{RELEASE}/publish").status_code == 200
    document = Document.objects.get(name="app.cdx.json")
    blob_store().delete(document.sha256)
    _run_jobs_until_done()
    job = Job.objects.get(kind="sbom.ingest")
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    parsed = ReleaseSbom.objects.get(document=document)
    assert parsed.error.startswith("reading the SBOM failed on every attempt: jobs: sbom.ingest")
    assert "BlobNotFound" in parsed.error and "Traceback" not in parsed.error
    api, html = _components_api_and_page(world)
    assert api[0]["document"] == "app.cdx.json" and "BlobNotFound" in api[0]["error"]
    assert "This SBOM could not be read" in html and "BlobNotFound" in html


@pytest.mark.django_db(transaction=True)
def test_ingest_lost_on_its_last_attempt_stores_the_reason(world, settings, queued):
    # a worker killed during the last attempt: the next runner fails the job and says why
    import dataclasses
    from datetime import timedelta

    from django.utils import timezone

    from clearroom.jobs.inprocess import Runner
    from clearroom.jobs.models import Job, JobStatus

    settings.CONFIG = dataclasses.replace(settings.CONFIG, jobs_backend="inprocess")
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    data = (DATA / "app.cdx.json").read_bytes()
    put(client, "app.cdx.json", data, collection="documents", query="?kind=sbom")
    document = Document.objects.get(name="app.cdx.json")
    Job.objects.create(
        kind="sbom.ingest",
        module="clearroom.server.vulnerabilities.tasks",
        args={"document": document.pk},
        status=JobStatus.RUNNING,
        attempts=3,
        max_attempts=3,
        locked_by="worker-that-died",
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    assert Runner(lease_seconds=5, poll_seconds=0.1).run_until_idle() == 0
    assert Job.objects.get(kind="sbom.ingest").status == JobStatus.FAILED
    error = ReleaseSbom.objects.get(document=document).error
    assert "attempt 3 of 3 was lost" in error and "worker-that-died" in error


IMPACT = "The streaming mode is never enabled."


@pytest.fixture
def confidential_vex(world, scan_advisories, queued):
    """A published release: a public SBOM, and the vendor's VEX (parser not_affected, with an
    impact statement) uploaded as a confidential document. Telco follows without a grant, the
    lab follows with one."""
    telco = Organisation.objects.create(slug="telco", name="Telco", kind="customer")
    for follower in (telco, Organisation.objects.get(slug="lab")):
        Follow.objects.create(organisation=follower, product=world.product)
    client = world.client(world.token)
    put(client, "app.bin", b"application")
    for name, query in (
        ("app.cdx.json", "?kind=sbom"),
        ("vex.openvex.json", "?kind=vex&confidentiality=confidential"),
    ):
        data = (DATA / name).read_bytes()
        assert put(client, name, data, collection="documents", query=query).status_code == 201
    assert client.post(f"{RELEASE}/publish").status_code == 200
    release = world.product.releases.get()
    _ingest(release)
    return release, services.evaluate(release)


def test_confidential_vex_justification_never_reaches_a_reader_without_access(
    world, confidential_vex
):
    from django.urls import reverse

    telco = Organisation.objects.get(slug="telco")
    readers = {
        "anonymous": world.client(),
        "telco member": world.client(world.token_for(_member("buyer", telco, "viewer"), telco)),
    }
    page = reverse("portal:vulnerabilities", args=["acme", "router", "1.0.0"])
    for who, client in readers.items():
        answer = client.get(f"{RELEASE}/vulnerabilities").json()
        parser = next(f for f in answer["findings"] if f["advisory"] == "GHSA-scan-0002")
        assert parser["status"] == "affected" and parser["vex"] is None, who
        assert (
            answer["open_by_severity"]["critical"] == 1
            and sum(answer["open_by_severity"].values()) == 2
        ), who
        for query in ("?status=all", "?status=all&format=csv", "?status=all&format=cyclonedx"):
            body = client.get(f"{RELEASE}/vulnerabilities{query}").content.decode()
            assert IMPACT not in body and "not_in_execute_path" not in body, (who, query)
            assert "not_affected" not in body, (who, query)
        assert (
            client.get(f"{RELEASE}/vulnerabilities?status=not_affected").json()["findings"] == []
        ), who
        for url in (page, f"{page}?status=all", f"{page}?status=not_affected"):
            html = client.get(url).content.decode()
            assert IMPACT not in html and "not_in_execute_path" not in html, (who, url)
        portfolio = client.get("/api/organisations/acme/vulnerabilities").json()
        assert portfolio["releases"][0]["open"] == 2, who
        assert all(
            h["open_by_severity"] == {**h["open_by_severity"], "critical": 1}
            for h in answer["history"]
        ), who
    # Those who may read the VEX document see what it says.
    for client in (
        world.client(world.token),
        world.client(world.token_for(world.evaluator, world.lab)),
    ):
        answer = client.get(f"{RELEASE}/vulnerabilities?status=all").json()
        parser = next(f for f in answer["findings"] if f["advisory"] == "GHSA-scan-0002")
        assert parser["status"] == "not_affected" and parser["vex"]["impact_statement"] == IMPACT
        assert IMPACT in client.get(f"{page}?status=all").content.decode()
        assert (
            client.get("/api/organisations/acme/vulnerabilities").json()["releases"][0]["open"] == 1
        )


def test_follower_without_access_to_a_confidential_vex_is_told_the_public_count(
    world, confidential_vex
):
    """Telco (no grant) is told of both findings open as it may see them; the vendor and the
    lab, which read the VEX document, of the one it leaves open."""
    _, evaluation = confidential_vex
    told = dict(Notification.objects.values_list("organisation__slug", "text"))
    assert evaluation.new_findings == 1
    assert told["acme"].startswith("1 new") and told["lab"].startswith("1 new")
    assert told["telco"].startswith("2 new")
    assert evaluation.open_by_severity["critical"] == 1
    assert sum(evaluation.open_by_severity.values()) == 1
    assert sum(evaluation.public_open_by_severity.values()) == 2


def test_showcase_counts_and_csaf_never_use_a_confidential_vex(world, confidential_vex):
    from django.test import Client

    numbers = Client().get("/orgs/acme/-/showcase/?format=json").json()
    text = json.dumps(numbers)
    assert IMPACT not in text
    (row,) = numbers["releases"]
    assert sum(row["open"].values()) == 2 and row["vex_coverage"] == 0
    html = Client().get("/orgs/acme/-/showcase/").content.decode()
    assert IMPACT not in html
    index = Client().get("/.well-known/csaf/white/index.txt")
    assert index.status_code in (200, 404)
    assert IMPACT not in index.content.decode()
    for path in index.content.decode().split():
        assert IMPACT not in Client().get(f"/.well-known/csaf/white/{path}").content.decode()


def test_a_signed_vex_statement_is_public_and_decides_for_everyone(world, confidential_vex, queued):
    release, _ = confidential_vex
    owner = world.client(world.token_for(_member("owner", world.vendor, "owner"), world.vendor))
    key = FileSigner.generate()
    owner.post(
        "/api/organisations/acme/keys",
        data=_envelope(_key_event(key), key),
        content_type="application/json",
    )
    envelope = _signed_vex(
        key, {"status": "not_affected", "justification": "vulnerable_code_not_present"}
    )
    client = world.client(world.token)
    answer = client.post(f"{RELEASE}/attestations", data=envelope, content_type="application/json")
    assert answer.status_code == 201, answer.content
    services.evaluate(release)
    webkit = world.client().get(f"{RELEASE}/vulnerabilities?status=all").json()["findings"]
    decided = [f for f in webkit if f["advisory"] == "GHSA-scan-0001"]
    assert decided and all(f["status"] == "not_affected" for f in decided)
    assert all(f["vex"]["signed"] is True for f in decided)


def test_findings_decided_by_a_confidential_vex_before_the_fix_are_hidden_by_the_migration(
    world, confidential_vex
):
    """Before the fix ``status``/``vex`` applied every VEX document: the migration keeps that
    as the full view and shows the match's own status until the release is evaluated again."""
    from importlib import import_module

    from django.apps import apps

    release, _ = confidential_vex
    parser = Finding.objects.get(release=release, advisory_id="GHSA-scan-0002")
    Finding.objects.filter(pk=parser.pk).update(
        status=parser.full_status, vex=parser.full_vex, full_status="", full_vex=None
    )
    migration = import_module(
        "clearroom.server.vulnerabilities.migrations.0003_confidential_vex_views"
    )
    migration.split_views(apps, None)
    parser.refresh_from_db()
    assert (parser.status, parser.vex) == ("affected", None)
    assert parser.full_status == "not_affected" and parser.full_vex["impact_statement"] == IMPACT
