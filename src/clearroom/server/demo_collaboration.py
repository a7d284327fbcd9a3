"""The demo's collaboration: a regulator evaluating the published release against the demo
standards body's catalogue, a finding the vendor is working on, a customer's question answered
by the vendor's expert, a lab's signed report that its rebuild of the firmware matched (the
showcase's binary equivalence), and the audit trail of the regulator's confidential download -
so a newcomer sees the parties at work on one release. Clearly demo content; idempotent (done
once)."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates.slsa import make_vsa
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE, Subject
from clearroom.server import demo_standards
from clearroom.server.accounts.models import User
from clearroom.server.attestations import services as attestations
from clearroom.server.audit import services as audit
from clearroom.server.authz import Actor
from clearroom.server.catalog import services as catalog
from clearroom.server.catalog.models import Release
from clearroom.server.collaboration import discussions, evaluations
from clearroom.server.collaboration.models import Evaluation
from clearroom.server.standards.models import Catalogue
from clearroom.server.vulnerabilities.services import follow

REBUILD = "Reproducible build of the firmware image (demo)"
LAB_POLICY_URI = "https://testlab.example/policies/reproducible-build"
LAB_POLICY = (
    b"TestLab Europe reproducible-build policy (demo): rebuild the image from the vendor's"
    b" source archive on the lab's own build platform; PASSED with SLSA_BUILD_REPRODUCED when"
    b" the rebuilt image's SHA-256 equals the published one.\n"
)
"""The policy the lab's VSA names, by URI and by digest (VSA ``policy.digest``)."""


def _actor(username: str) -> Actor:
    return Actor(user=User.objects.get(username=username))


def seed_collaboration(release: Release) -> None:
    if Evaluation.objects.filter(release=release).exists():
        return
    regulator, owner = _actor("regulator"), _actor("vendor-owner")
    expert, customer = _actor("expert"), _actor("customer")
    evaluation = evaluations.request(
        regulator,
        release,
        catalogue=Catalogue.objects.get(slug=demo_standards.SLUG),
        scope="Demo: the firmware image and its sources.",
    )
    evaluations.accept(owner, evaluation)
    source = release.artifacts.get(confidentiality="confidential")
    p = release.product
    catalog.get_file(regulator, p.vendor.slug, p.slug, release.version, "artifacts", source.name)
    evaluations.record_verdict(
        regulator,
        evaluation,
        requirement="iot-1.1",
        value="pass",
        rationale="No universal default passwords (demo verdict).",
    )
    evaluations.record_verdict(
        regulator,
        evaluation,
        requirement="iot-3.1",
        value="inconclusive",
        rationale="Update mechanism documented, not yet tested (demo verdict).",
    )
    finding = discussions.raise_finding(
        regulator,
        release,
        evaluation=evaluation,
        title="Telnet reachable on the management VLAN (demo finding)",
        severity="high",
        body="Port 23 answers on the management interface with the factory configuration."
        " @expert can you confirm? (demo)",
    )
    discussions.assign(owner, finding, "expert")
    discussions.change_status(expert, finding, "acknowledged")
    discussions.post(
        expert,
        finding.thread,
        "Confirmed: telnetd is started by the factory profile. Fix planned for 2.5.0. (demo)",
    )
    discussions.change_status(expert, finding, "fix_planned")
    follow(customer, p)
    thread = discussions.ask(
        customer,
        p,
        subject="Is secure boot enabled by default? (demo question)",
        body="We deploy the X5 in our access network: is secure boot on out of the box?",
        version=release.version,
    )
    discussions.post(expert, thread, "Yes, since 2.3.0, with keys fused at the factory. (demo)")
    _lab_rebuild(release)
    audit.seal()


def _lab_rebuild(release: Release) -> None:
    """TestLab Europe rebuilt the image from the confidential sources and got the same bytes:
    it reports so in an SLSA VSA with ``SLSA_BUILD_REPRODUCED``, signed with its own key
    (made here for the demo; a real lab keeps its key on its own machines)."""
    lab_owner, evaluator, owner = _actor("lab-owner"), _actor("evaluator"), _actor("vendor-owner")
    evaluation = evaluations.request(
        evaluator, release, standard=REBUILD, scope="Rebuild the image from the source archive."
    )
    evaluations.accept(owner, evaluation)
    key = FileSigner.generate()
    event = KeyEvent(evaluation.evaluator.slug, "add", key.public_key, timezone.now())
    signed_event = sign_envelope(PAYLOAD_TYPE, event.to_statement().to_json(), [key])
    attestations.register_key(lab_owner, evaluation.evaluator, signed_event.to_json())
    image = release.artifacts.get(name__endswith=".img")
    p = release.product
    vsa = make_vsa(
        [Subject(image.name, {"sha256": image.sha256})],
        "https://testlab.example/rebuilder",
        timezone.now(),
        f"clearroom:{p.vendor.slug}/{p.slug}@{release.version}",
        LAB_POLICY_URI,
        {"sha256": hashlib.sha256(LAB_POLICY).hexdigest()},
        [],
        "PASSED",
        ["SLSA_BUILD_REPRODUCED"],
    )
    report = sign_envelope(PAYLOAD_TYPE, vsa.to_json(), [key])
    evaluations.submit_report(evaluator, evaluation, report.to_json())
