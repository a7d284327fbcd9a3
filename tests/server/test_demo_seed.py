"""``clearroom demo`` seeds once and restarts cleanly: a second seed changes nothing (a demo that
was stopped, or killed, starts again on the same data)."""

from __future__ import annotations

import tomllib

from clearroom.attest.bundle import Bundle
from clearroom.attest.policy import Policy
from clearroom.attest.verify import verify
from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.bundles import release_bundle
from clearroom.server.attestations.policy import starting_policy
from clearroom.server.catalog.models import AccessGrant, Release
from clearroom.server.collaboration.models import Evaluation
from clearroom.server.demo import seed
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
