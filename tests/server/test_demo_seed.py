"""``clearroom demo`` seeds once and restarts cleanly: a second seed changes nothing (a demo that
was stopped, or killed, starts again on the same data)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib

from clearroom.attest.bundle import Bundle
from clearroom.attest.policy import Policy
from clearroom.attest.predicates.slsa import reports_reproduced, validate_vsa
from clearroom.attest.verify import verify
from clearroom.sbom.validate import validate_document
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.bundles import release_bundle
from clearroom.server.attestations.policy import starting_policy
from clearroom.server.attestations.services import statement_of
from clearroom.server.catalog.models import AccessGrant, Document, Release
from clearroom.server.collaboration.models import Evaluation
from clearroom.server.demo import seed
from clearroom.server.demo_collaboration import LAB_POLICY, REBUILD
from clearroom.server.services import blob_store
from clearroom.server.standards.models import Catalogue


def test_seeding_twice_is_seeding_once(db, own_log) -> None:
    seed()
    counts = (Evaluation.objects.count(), AccessGrant.objects.count(), Catalogue.objects.count())
    assert counts == (2, 3, 1)  # regulator's and lab's evaluations; standing + their grants
    seed()
    again = (Evaluation.objects.count(), AccessGrant.objects.count(), Catalogue.objects.count())
    assert again == counts


def test_the_demo_release_verifies_offline_with_the_printed_policy(db, log_writer) -> None:
    info = seed()
    log_writer()
    release = Release.objects.get(product__slug=info.product, version=info.version)
    image = release.artifacts.get(name=f"edgerouter-x5-{info.version}.img")
    policy = Policy.from_dict(
        tomllib.loads(starting_policy(Organisation.objects.get(slug=info.vendor)))
    )
    bundle = Bundle.parse(release_bundle(release).to_json())
    verdict = verify(image.sha256, bundle, policy)
    assert verdict.ok, verdict.checks
    assert "published as of" in verdict.checks[-1].detail  # the centre's release status


def test_lab_vsa_is_slsa_1_2_with_policy_digest(db, own_log) -> None:
    seed()
    report = Evaluation.objects.get(standard=REBUILD).report
    predicate = statement_of(report).predicate
    assert predicate["verifiedLevels"] == ["SLSA_BUILD_REPRODUCED"]
    assert predicate["slsaVersion"] == "1.2"  # the version that defines SLSA_BUILD_REPRODUCED
    assert predicate["policy"]["digest"] == {"sha256": hashlib.sha256(LAB_POLICY).hexdigest()}
    validate_vsa(predicate)
    assert reports_reproduced(predicate)


def test_demo_sboms_have_distinct_serial_numbers(db, own_log) -> None:
    seed()
    serials = []
    for document in Document.objects.filter(kind=Document.Kind.SBOM):
        with blob_store().open_reader(document.sha256) as reader:
            body = json.loads(b"".join(reader))
        assert validate_document(body).valid, document.name  # CycloneDX 1.6, strictly
        serials.append(body["serialNumber"])
    assert len(serials) >= 2 and len(set(serials)) == len(serials)
    assert all(
        re.fullmatch(
            r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", s
        )
        for s in serials
    )
