"""``clearroom demo`` seeds once and restarts cleanly: a second seed changes nothing (a demo that
was stopped, or killed, starts again on the same data)."""

from __future__ import annotations

import hashlib

from clearroom.attest.predicates.slsa import reports_reproduced, validate_vsa
from clearroom.server.attestations.services import statement_of
from clearroom.server.catalog.models import AccessGrant
from clearroom.server.collaboration.models import Evaluation
from clearroom.server.demo import seed
from clearroom.server.demo_collaboration import LAB_POLICY, REBUILD
from clearroom.server.standards.models import Catalogue


def test_seeding_twice_is_seeding_once(db, own_log) -> None:
    seed()
    counts = (Evaluation.objects.count(), AccessGrant.objects.count(), Catalogue.objects.count())
    assert counts == (2, 3, 1)  # regulator's and lab's evaluations; standing + their grants
    seed()
    again = (Evaluation.objects.count(), AccessGrant.objects.count(), Catalogue.objects.count())
    assert again == counts


def test_lab_vsa_is_slsa_1_2_with_policy_digest(db, own_log) -> None:
    seed()
    report = Evaluation.objects.get(standard=REBUILD).report
    predicate = statement_of(report).predicate
    assert predicate["verifiedLevels"] == ["SLSA_BUILD_REPRODUCED"]
    assert predicate["slsaVersion"] == "1.2"  # the version that defines SLSA_BUILD_REPRODUCED
    assert predicate["policy"]["digest"] == {"sha256": hashlib.sha256(LAB_POLICY).hexdigest()}
    validate_vsa(predicate)
    assert reports_reproduced(predicate)
