"""``clearroom demo`` seeds once and restarts cleanly: a second seed changes nothing (a demo that
was stopped, or killed, starts again on the same data)."""

from __future__ import annotations

from clearroom.server.catalog.models import AccessGrant
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
