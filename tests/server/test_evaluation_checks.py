"""An evaluation's automated checks say what the centre knows now, not what it knew when the
vendor accepted: in the demo the regulator's evaluation was accepted before the SBOM was read,
the vulnerabilities evaluated and the facts logged, and read "SBOM: fail", "no open
vulnerabilities" and "0 of 6 facts logged" for good. The checks now run again when those facts
change, say when they ran, and the evaluator may run them again (button and API)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clearroom.server.accounts.models import Organisation, User
from clearroom.server.accounts.tokens import issue_token
from clearroom.server.authz.permissions import Permission
from clearroom.server.catalog.models import Document, Release
from clearroom.server.collaboration.models import CheckResult, Evaluation
from clearroom.server.demo import PRODUCT, VERSION, seed
from clearroom.server.vulnerabilities import tasks
from clearroom.server.vulnerabilities.services import open_counts

REGULATOR = "national-cyber-agency"


@pytest.fixture
def demo(db, own_log) -> Release:
    """The demo as ``clearroom demo`` leaves it before its job runner and log writer ran."""
    seed()
    return Release.objects.get(product__slug=PRODUCT, version=VERSION)


def _evaluation() -> Evaluation:
    return Evaluation.objects.get(evaluator__slug=REGULATOR)


def _check(check_id: str) -> CheckResult:
    return _evaluation().checks.get(check_id=check_id)


def _read_the_sbom(release: Release) -> None:
    """What the demo's job runner does first: the sbom.ingest job."""
    sbom = release.documents.get(kind=Document.Kind.SBOM)
    tasks.ingest(document=sbom.pk)


def test_evaluation_checks_rerun_when_sbom_ingested(demo: Release) -> None:
    before = _check("sbom")
    assert before.outcome == "info" and "not read yet" in before.detail  # not "no SBOM": unread
    _read_the_sbom(demo)
    after = _check("sbom")
    assert after.outcome == "pass", after.detail
    assert re.search(r"5 components, NTIA \d+/100, BSI TR-03183-2 \d+/100", after.detail)
    assert after.checked_at >= before.checked_at


def test_evaluation_checks_rerun_when_vulnerabilities_evaluated(demo: Release) -> None:
    _read_the_sbom(demo)
    assert "Not evaluated yet" in _check("vulnerabilities").detail
    tasks.evaluate(release=demo.pk)
    check = _check("vulnerabilities")
    total = sum(open_counts(demo).values())
    assert total > 0 and check.detail.startswith(f"{total} open: ")
    assert check.data["open"] == open_counts(demo)


def test_evaluation_checks_rerun_when_facts_logged(demo: Release, log_writer) -> None:
    before = _check("transparency-log")
    total = demo.log_entries.count()
    assert before.detail.startswith(f"0 of {total} facts") and before.outcome == "info"
    log_writer()
    after = _check("transparency-log")
    assert after.detail.startswith(f"{total} of {total} facts") and after.outcome == "pass"


def _token(username: str, organisation: str) -> str:
    user = User.objects.get(username=username)
    scopes = [Permission.EVALUATION_READ.value, Permission.EVALUATION_WRITE.value]
    return issue_token(
        user, Organisation.objects.get(slug=organisation), name="checks", scopes=scopes
    )[1]


def test_evaluator_can_rerun_checks(demo: Release) -> None:
    """The checks also run on demand: through the API and the evaluation page's button, for
    the evaluator (the vendor may read them, not run them)."""
    evaluation = _evaluation()
    CheckResult.objects.filter(evaluation=evaluation).update(detail="stale")
    api = f"/api/evaluations/{evaluation.ref}/checks"
    regulator = {"Authorization": f"Bearer {_token('regulator', REGULATOR)}"}
    answer = Client().post(api, headers=regulator)
    assert answer.status_code == 200, answer.content
    checks = {c["check"]: c for c in answer.json()["checks"]}
    assert checks["sbom"]["detail"] != "stale" and checks["sbom"]["checked_at"]

    vendor = Client()
    vendor.force_login(User.objects.get(username="vendor-owner"))
    page = vendor.get(reverse("portal:evaluation", args=[evaluation.ref])).content.decode()
    assert "Run the checks again now" not in page and "Checked</th>" in page
    assert (
        vendor.post(reverse("portal:evaluation-checks", args=[evaluation.ref])).status_code == 403
    )

    CheckResult.objects.filter(evaluation=evaluation).update(detail="stale")
    browser = Client()
    browser.force_login(User.objects.get(username="regulator"))
    url = reverse("portal:evaluation", args=[evaluation.ref])
    assert "Run the checks again now" in browser.get(url).content.decode()
    answer = browser.post(reverse("portal:evaluation-checks", args=[evaluation.ref]), follow=True)
    assert answer.status_code == 200 and "Automated checks run again." in answer.content.decode()
    assert not evaluation.checks.filter(detail="stale").exists()


def test_checks_of_an_evaluation_not_yet_accepted_cannot_be_run(demo: Release) -> None:
    regulator = User.objects.get(username="regulator")
    requested = Evaluation.objects.create(
        release=demo,
        evaluator=Organisation.objects.get(slug=REGULATOR),
        standard="Another standard",
        requested_by=regulator,
    )
    headers = {"Authorization": f"Bearer {_token('regulator', REGULATOR)}"}
    answer = Client().post(f"/api/evaluations/{requested.ref}/checks", headers=headers)
    assert answer.status_code == 409
    assert "from the vendor's acceptance" in answer.json()["detail"]
    assert not requested.checks.exists()


def test_demo_regulator_sees_current_checks(demo: Release, log_writer) -> None:
    """The demo once its job runner and log writer did their work: the regulator reads the
    SBOM's scores, every fact logged and the open findings the release page shows."""
    _read_the_sbom(demo)
    tasks.evaluate(release=demo.pk)
    log_writer()
    client = Client()
    client.force_login(User.objects.get(username="regulator"))
    page = client.get(reverse("portal:evaluation", args=[_evaluation().ref])).content.decode()
    section = page[page.index('id="checks-heading"') :]
    section = re.sub(r"\s+", " ", section[: section.index("</section>")])
    assert "no readable SBOM" not in section and "not read yet" not in section
    assert re.search(r"NTIA \d+/100", section)
    total = demo.log_entries.count()
    assert f"{total} of {total} facts about the release are in the transparency log" in section
    counts = open_counts(demo)
    listed = ", ".join(f"{n} {rating}" for rating, n in counts.items() if n)
    assert f"{sum(counts.values())} open: {listed}" in section and sum(counts.values()) >= 2
    assert "None open" not in section
    assert section.count("<time datetime=") == 4  # when each check ran


def test_checks_of_a_reported_evaluation_stay_as_submitted(demo: Release) -> None:
    """The report ends the evaluator's access, so its checks learn nothing new afterwards: the
    lab's reported evaluation keeps the checks it had when the report was submitted."""
    lab = Evaluation.objects.get(evaluator__slug="testlab-europe")
    assert lab.state == Evaluation.State.REPORTED
    before = {c.check_id: (c.detail, c.checked_at) for c in lab.checks.all()}
    _read_the_sbom(demo)
    assert {c.check_id: (c.detail, c.checked_at) for c in lab.checks.all()} == before
    headers = {"Authorization": f"Bearer {_token('evaluator', 'testlab-europe')}"}
    answer = Client().post(f"/api/evaluations/{lab.ref}/checks", headers=headers)
    assert answer.status_code == 409 and "until the final report" in answer.json()["detail"]
